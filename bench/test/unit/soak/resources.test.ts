import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  apiRssSwingMb,
  processStartTicks,
  ResourceSampler,
  readProcessResources,
  taskHeapFlags,
} from '../../../soak/resources.ts';

/** A directory laid out like /proc for one pid: status with VmRSS, stat with a start time, fds. */
function fakeProc(root: string, pid: number, rssKb: number, fds: number, startTicks = 1234) {
  const dir = join(root, String(pid));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'fd'), { recursive: true });
  writeFileSync(join(dir, 'status'), `Name:\tnode\nVmPeak:\t999 kB\nVmRSS:\t${rssKb} kB\n`);
  // Fields after the command name: state is field 3, starttime field 22.
  const rest = Array.from({ length: 20 }, (_, i) => (i === 19 ? startTicks : i));
  writeFileSync(join(dir, 'stat'), `${pid} (node main.mjs) S ${rest.slice(1).join(' ')}`);
  for (let i = 0; i < fds; i++) writeFileSync(join(dir, 'fd', String(i)), '');
}

describe('reading /proc', () => {
  it('reads this process’s resident memory, descriptors and start time', () => {
    const r = readProcessResources(process.pid);
    expect(r?.rssMb).toBeGreaterThan(10);
    expect(r?.fds).toBeGreaterThanOrEqual(3);
    expect(processStartTicks(process.pid)).toBeGreaterThan(0);
  });

  it('says undefined for a process that has exited', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid ?? 0;
    await once(child, 'exit');
    expect(readProcessResources(pid)).toBeUndefined();
    expect(processStartTicks(pid)).toBeUndefined();
  });

  it('reads a stat whose command name holds spaces and parentheses', () => {
    const root = mkdtempSync(join(tmpdir(), 'resources-'));
    try {
      fakeProc(root, 42, 2048, 3, 777);
      writeFileSync(
        join(root, '42', 'stat'),
        `42 (a (b) c) S ${Array.from({ length: 19 }, (_, i) => (i === 18 ? 777 : i + 1)).join(' ')}`,
      );
      expect(processStartTicks(42, root)).toBe(777);
      expect(readProcessResources(42, root)).toEqual({ rssMb: 2, fds: 3 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('ResourceSampler', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  it('samples each watched process, notes one that exited once, and a restart under its name', () => {
    root = mkdtempSync(join(tmpdir(), 'resources-'));
    let now = 1000;
    const sampler = new ResourceSampler({ intervalMs: 1000, now: () => now, procRoot: root });
    fakeProc(root, 10, 102_400, 30);
    fakeProc(root, 20, 51_200, 25);
    sampler.watch('api', 10);
    sampler.watch('worker-1', 20);
    expect(sampler.sampleNow()).toEqual([
      { process: 'api', pid: 10, at: 1000, rssMb: 100, fds: 30 },
      { process: 'worker-1', pid: 20, at: 1000, rssMb: 50, fds: 25 },
    ]);
    rmSync(join(root, '20'), { recursive: true }); // worker-1 killed
    now = 2000;
    expect(sampler.sampleNow().map((s) => s.process)).toEqual(['api']);
    now = 3000;
    sampler.sampleNow();
    expect(sampler.exits).toEqual([{ process: 'worker-1', pid: 20, at: 2000 }]);
    fakeProc(root, 21, 40_960, 22); // …and started again
    sampler.watch('worker-1', 21);
    now = 4000;
    expect(sampler.sampleNow()).toEqual([
      { process: 'api', pid: 10, at: 4000, rssMb: 100, fds: 30 },
      { process: 'worker-1', pid: 21, at: 4000, rssMb: 40, fds: 22 },
    ]);
    expect(sampler.samples).toHaveLength(6);
  });

  it('treats a pid now naming another process (another start time) as exited', () => {
    root = mkdtempSync(join(tmpdir(), 'resources-'));
    const sampler = new ResourceSampler({ intervalMs: 1000, now: () => 5, procRoot: root });
    fakeProc(root, 30, 10_240, 10, 1000);
    sampler.watch('worker-2', 30);
    expect(sampler.sampleNow()).toHaveLength(1);
    fakeProc(root, 30, 99_999, 99, 2000);
    expect(sampler.sampleNow()).toEqual([]);
    expect(sampler.exits).toEqual([{ process: 'worker-2', pid: 30, at: 5 }]);
  });

  it('samples real processes on its interval until stopped, and a child that exits', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
    const sampler = new ResourceSampler({ intervalMs: 20 });
    sampler.watch('self', process.pid);
    sampler.watch('child', child.pid ?? 0);
    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    await new Promise((resolve) => setTimeout(resolve, 150));
    sampler.stop();
    const count = sampler.samples.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sampler.samples.length).toBe(count);
    expect(sampler.samples.filter((s) => s.process === 'child').length).toBeGreaterThan(0);
    expect(sampler.samples.filter((s) => s.process === 'self').length).toBeGreaterThan(1);
    expect(sampler.exits.map((e) => e.process)).toEqual(['child']);
  });

  it('refuses a pid that is not one', () => {
    const sampler = new ResourceSampler({ intervalMs: 1000 });
    expect(() => sampler.watch('x', 0)).toThrow('not a pid');
    expect(() => new ResourceSampler({ intervalMs: 0 })).toThrow();
  });
});

describe('taskHeapFlags', () => {
  it('give the heap limit Node picked in a 1-GB container: 560 MB (docs/benchmarks.md)', () => {
    const limit = execFileSync(process.execPath, [
      ...taskHeapFlags,
      '-p',
      'require("node:v8").getHeapStatistics().heap_size_limit / 1048576',
    ]);
    expect(Number(String(limit).trim())).toBe(560);
  });

  it("are what the API's RSS swing is: the young generation's maximum, 3 × the semi-space", () => {
    const semi = taskHeapFlags.find((f) => f.startsWith('--max-semi-space-size='));
    expect(apiRssSwingMb).toBe(3 * Number(semi?.split('=')[1]));
  });
});
