import { describe, expect, it } from 'vitest';
import { SharedExportQuota } from '../../../src/adapters/shared-export-quota.ts';
import {
  FakeExportQuotaLeases,
  TokenBucket,
  VirtualTime,
} from '../../support/fakes/export-quota.ts';

const quota = 5;
const heartbeatMs = 5000;

/**
 * Worker tasks sharing one export quota in virtual time: each task runs `loops` exporters that
 * take a slot, then call "ACM" (the account's token bucket), reporting throttles back.
 */
function aBed() {
  const time = new VirtualTime();
  const leases = new FakeExportQuotaLeases(time);
  const account = new TokenBucket(quota, time.ms);
  const tasks = new Map<string, ReturnType<typeof task>>();

  function task(id: string) {
    const limiter = new SharedExportQuota({
      leases,
      taskId: id,
      quotaPerSecond: quota,
      heartbeatMs,
      clock: time,
      sleep: (ms) => time.sleep(ms),
    });
    const exports: number[] = [];
    let throttled = 0;
    let failed = 0;
    let running = false;
    const loop = async () => {
      while (running) {
        try {
          await limiter.take();
        } catch {
          failed += 1;
          return;
        }
        if (!running) return;
        if (account.take(time.ms)) exports.push(time.ms);
        else {
          throttled += 1;
          limiter.throttled();
        }
      }
    };
    return {
      limiter,
      exports,
      get throttled() {
        return throttled;
      },
      get failed() {
        return failed;
      },
      /** Exports waiting all the time (a storm): `loops` at once. */
      start(loops = 10) {
        running = true;
        for (let i = 0; i < loops; i++) void loop();
      },
      /** Nothing more to export. */
      stop() {
        running = false;
      },
      /** The process dies: no more requests, no release. */
      crash() {
        running = false;
        leases.failing.add(id);
      },
      /** Exports per second between two instants (ms from the start of the bed). */
      rate(fromMs: number, toMs: number) {
        const n = exports.filter((t) => t >= start + fromMs && t < start + toMs).length;
        return n / ((toMs - fromMs) / 1000);
      },
    };
  }
  const start = time.ms;
  return {
    time,
    leases,
    account,
    add(id: string) {
      const t = task(id);
      tasks.set(id, t);
      return t;
    },
    totalRate(fromMs: number, toMs: number) {
      return [...tasks.values()].reduce((sum, t) => sum + t.rate(fromMs, toMs), 0);
    },
    throttled() {
      return [...tasks.values()].reduce((sum, t) => sum + t.throttled, 0);
    },
    exported() {
      return [...tasks.values()].reduce((sum, t) => sum + t.exports.length, 0);
    },
  };
}

describe('SharedExportQuota', () => {
  it('a task alone exports at the whole quota from its first claim, one claim per heartbeat', async () => {
    const bed = aBed();
    const a = bed.add('a');
    a.start();
    await bed.time.runFor(60_000);
    expect(a.exports[0]).toBe(bed.time.ms - 60_000);
    expect(a.rate(0, 60_000)).toBeGreaterThanOrEqual(quota * 0.99);
    expect(a.throttled).toBe(0);
    expect(bed.leases.count('claim')).toBeLessThanOrEqual(60_000 / heartbeatMs + 1);
  });

  it.each([2, 4])(
    '%i tasks started together converge to quota / n each, with the quota used and no throttle',
    async (n) => {
      const bed = aBed();
      const tasks = Array.from({ length: n }, (_, i) => bed.add(`task-${i}`));
      for (const [i, t] of tasks.entries()) {
        t.start();
        await bed.time.runFor(100 * i + 37);
      }
      await bed.time.runFor(120_000);
      // The whole quota is used from the start: the first task alone until the others count.
      expect(bed.totalRate(0, 120_000)).toBeGreaterThanOrEqual(quota * 0.97);
      for (const t of tasks) {
        expect(t.rate(30_000, 120_000)).toBeCloseTo(quota / n, 1);
      }
      expect(bed.throttled()).toBe(0);
      // No request per export: about one claim per task and heartbeat.
      expect(bed.leases.count('claim')).toBeLessThanOrEqual(n * (121_000 / heartbeatMs + 2));
    },
  );

  it('a task that joins while another exports waits until its claim counts: no throttle', async () => {
    const bed = aBed();
    const a = bed.add('a');
    const b = bed.add('b');
    a.start();
    await bed.time.runFor(12_000);
    b.start();
    await bed.time.runFor(heartbeatMs);
    expect(b.exports).toHaveLength(0);
    await bed.time.runFor(60_000);
    expect(b.exports.length).toBeGreaterThan(0);
    expect(bed.throttled()).toBe(0);
    expect(a.rate(40_000, 77_000)).toBeCloseTo(quota / 2, 1);
    expect(b.rate(40_000, 77_000)).toBeCloseTo(quota / 2, 1);
  });

  it('a task that dies is dropped once its claim expires: the others take its share', async () => {
    const bed = aBed();
    const a = bed.add('a');
    const b = bed.add('b');
    a.start();
    b.start();
    await bed.time.runFor(30_000);
    b.crash();
    await bed.time.runFor(60_000);
    expect(b.exports.at(-1)).toBeLessThan(bed.time.ms - 60_000 + 1);
    // Its claim lasted three heartbeats at most; then a exports at the whole quota.
    expect(a.rate(30_000 + 3 * heartbeatMs + 1000, 90_000)).toBeCloseTo(quota, 1);
    expect(bed.throttled()).toBe(0);
    // The dead claim is removed by a's requests once it is long expired.
    expect(bed.leases.claims.has('b')).toBe(false);
  });

  it('a task with nothing left to export gives its claim back when others share the quota', async () => {
    const bed = aBed();
    const a = bed.add('a');
    const b = bed.add('b');
    a.start();
    b.start();
    await bed.time.runFor(30_000);
    b.stop();
    await bed.time.runFor(3 * heartbeatMs);
    expect(bed.leases.count('release', 'b')).toBe(1);
    expect(bed.leases.claims.has('b')).toBe(false);
    await bed.time.runFor(50_000);
    expect(a.rate(30_000 + 3 * heartbeatMs, 95_000)).toBeCloseTo(quota, 1);
  });

  it('a lone export costs one request: the claim, left to lapse', async () => {
    const bed = aBed();
    const a = bed.add('a');
    await Promise.all([a.limiter.take(), bed.time.runFor(10 * heartbeatMs)]);
    expect(bed.leases.requests).toEqual([
      { op: 'claim', taskId: 'a', at: bed.time.ms - 10 * heartbeatMs },
    ]);
    expect(a.limiter.snapshot()).toMatchObject({ claimed: false, waiting: 0 });
  });

  it('a task alone that runs out of exports lets its claim lapse (no release request) and resumes at once', async () => {
    const bed = aBed();
    const a = bed.add('a');
    a.start(1);
    await bed.time.runFor(10_000);
    a.stop();
    await bed.time.runFor(2 * heartbeatMs + 1);
    const claims = bed.leases.count('claim', 'a');
    expect(bed.leases.count('release')).toBe(0);
    const before = a.exports.length;
    const restart = bed.time.ms;
    a.start(1);
    await bed.time.runFor(1000);
    // Its claim had not lapsed yet: the first export goes at once (the renewal alongside).
    expect(a.exports[before]).toBe(restart);
    expect(bed.leases.count('claim', 'a')).toBe(claims + 1);
  });

  it('throttles lower the rate multiplicatively, and it recovers additively', async () => {
    const bed = aBed();
    const a = bed.add('a');
    a.start(1);
    await bed.time.runFor(2000);
    expect(a.limiter.snapshot().ratePerSecond).toBeCloseTo(quota, 5);
    a.limiter.throttled();
    expect(a.limiter.snapshot().ratePerSecond).toBeCloseTo(quota * 0.7, 5);
    // Throttles of one burst (calls already in flight) count once.
    a.limiter.throttled();
    expect(a.limiter.snapshot().ratePerSecond).toBeCloseTo(quota * 0.7, 5);
    await bed.time.runFor(1500);
    expect(a.limiter.snapshot().ratePerSecond).toBeCloseTo(quota * 0.85, 5);
    await bed.time.runFor(2000);
    expect(a.limiter.snapshot().ratePerSecond).toBeCloseTo(quota, 5);
  });

  it('a quota lower than configured (another client of the account): throttles stay few and the rate follows', async () => {
    const bed = aBed();
    const a = bed.add('a');
    a.start();
    // Someone else takes 2 of the 5 per second from the same bucket.
    let stop = false;
    void (async () => {
      while (!stop) {
        bed.account.take(bed.time.ms);
        await bed.time.sleep(500);
      }
    })();
    await bed.time.runFor(60_000);
    stop = true;
    expect(a.throttled / (a.throttled + a.exports.length)).toBeLessThan(0.2);
    expect(a.rate(0, 60_000)).toBeGreaterThan(quota * 0.5);
  });

  it('no claim, no export: a first claim that fails fails the calls waiting, with its error', async () => {
    const bed = aBed();
    const a = bed.add('a');
    bed.leases.failing.add('a');
    const taken = a.limiter.take();
    await expect(taken).rejects.toThrow('unreachable');
    bed.leases.failing.delete('a');
    const again = a.limiter.take();
    await bed.time.runFor(1);
    await expect(again).resolves.toBeUndefined();
  });
});
