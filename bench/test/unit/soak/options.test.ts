import { describe, expect, it } from 'vitest';
import { parseSoakOptions } from '../../../soak/options.ts';
import { seededRandom } from '../../../soak/random.ts';

describe('soak options', () => {
  it('turns every fault on by default and takes the seed from the clock', () => {
    const o = parseSoakOptions(['--minutes', '3'], 1234);
    expect(o.minutes).toBe(3);
    expect(o.seed).toBe(1234);
    expect(o.workers).toBe(3);
    expect(Object.values(o.faults).every((v) => v > 0)).toBe(true);
  });

  it('--no-faults turns every fault off, whatever else is given', () => {
    const o = parseSoakOptions(['--minutes', '1', '--no-faults', '--throttle', '0.5']);
    expect(o.faults.throttle).toBe(0);
    expect(o.faults.killEvery).toBe(0);
    expect(o.faults.standInRestartEvery).toBe(0);
    expect(o.faults.drops).toBe(0);
  });

  it('refuses what it cannot run, naming the option', () => {
    expect(() => parseSoakOptions([])).toThrow(/--minutes is required/);
    expect(() => parseSoakOptions(['--minutes', 'ten'])).toThrow(/--minutes must be a number/);
    expect(() => parseSoakOptions(['--minutes', '0'])).toThrow(/--minutes must be from 0.5/);
    expect(() => parseSoakOptions(['--minutes', '1', '--workers', '1'])).toThrow(/--workers/);
    expect(() => parseSoakOptions(['--minutes', '1', '--workers', '2.5'])).toThrow(/whole/);
    expect(() => parseSoakOptions(['--minutes', '1', '--drops', '2'])).toThrow(/--drops/);
    expect(() => parseSoakOptions(['--minutes', '1', '--log-level', 'loud'])).toThrow(
      /--log-level/,
    );
    expect(() => parseSoakOptions(['--minutes', '1', '--speed', '9'])).toThrow(/speed/);
  });
});

describe('seeded random', () => {
  it('makes the same choices from the same seed, others from another', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const draw = (r: ReturnType<typeof seededRandom>) => Array.from({ length: 20 }, () => r.next());
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('draws integers within bounds and exponential waits around their mean', () => {
    const r = seededRandom(7);
    const ints = Array.from({ length: 1000 }, () => r.int(2, 5));
    expect(new Set(ints)).toEqual(new Set([2, 3, 4, 5]));
    const waits = Array.from({ length: 5000 }, () => r.exponential(10));
    const mean = waits.reduce((x, y) => x + y, 0) / waits.length;
    expect(mean).toBeGreaterThan(9);
    expect(mean).toBeLessThan(11);
  });
});
