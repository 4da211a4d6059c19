import { describe, expect, it } from 'vitest';
import {
  type ResourceSample,
  resourceVerdict,
  verdictLines,
} from '../../../soak/resources-verdict.ts';

/** A life sampled every second: `rss[i]` and `fds[i]` (or the last `fds`) at i s. */
function life(
  process: string,
  pid: number,
  rss: readonly number[],
  fds: readonly number[] | number = 30,
  startAt = 0,
): ResourceSample[] {
  return rss.map((rssMb, i) => ({
    process,
    pid,
    at: startAt + i * 1000,
    rssMb,
    fds: typeof fds === 'number' ? fds : (fds[i] ?? fds.at(-1) ?? 0),
  }));
}

const flat = (n: number, value: number) => Array.from({ length: n }, () => value);
const warmUp10s = { warmUp: { afterMs: 10_000 } } as const;

describe('resourceVerdict', () => {
  it('passes a process whose memory grew during warm-up and stayed flat after it', () => {
    const rss = [...[100, 140, 170, 190, 200, 205, 208, 209, 210, 210], ...flat(30, 210)];
    const v = resourceVerdict(life('api', 1, rss), warmUp10s);
    expect(v.passed).toBe(true);
    const [rssCheck] = v.lives[0]?.checks ?? [];
    expect(rssCheck).toMatchObject({ resource: 'rss', baseline: 210, max: 210, growthPercent: 0 });
    expect(rssCheck?.allowed).toBeCloseTo(231);
  });

  it('fails RSS that creeps past 10 % of the post-warm-up baseline', () => {
    // 10 s warm-up, then 200 MB growing 1 MB a second for 30 s: 229 MB is 14.5 % over.
    const rss = [...flat(10, 150), ...Array.from({ length: 30 }, (_, i) => 200 + i)];
    const v = resourceVerdict(life('worker-1', 7, rss), warmUp10s);
    expect(v.passed).toBe(false);
    expect(v.grew).toHaveLength(1);
    const [grew] = v.grew;
    expect(grew).toMatchObject({ process: 'worker-1', pid: 7, resource: 'rss', baseline: 202 });
    expect(grew?.max).toBe(229);
    expect(grew?.maxAfterMs).toBe(39_000);
    expect(grew?.growthPercent).toBeCloseTo(13.37, 1);
    expect(grew?.endGrowthPercent).toBeCloseTo(12.38, 1);
  });

  it('fails a single sample over the limit even when the end is back at the baseline', () => {
    const rss = [...flat(10, 100), ...flat(15, 100), 115, ...flat(14, 100)];
    const v = resourceVerdict(life('api', 1, rss), warmUp10s);
    expect(v.passed).toBe(false);
    expect(v.grew[0]).toMatchObject({ max: 115, end: 100, endGrowthPercent: 0 });
  });

  it('takes the median of the first post-warm-up samples as the baseline (one burst does not set it)', () => {
    const rss = [...flat(10, 100), 180, 100, 101, 100, 99, ...flat(25, 105)];
    const v = resourceVerdict(life('api', 1, rss), warmUp10s);
    const [rssCheck] = v.lives[0]?.checks ?? [];
    expect(rssCheck?.baseline).toBe(100);
    // …but the burst is a sample after warm-up, and 180 is over 110.
    expect(v.passed).toBe(false);
  });

  describe('file descriptors', () => {
    it('allows a few descriptors over a small count (the absolute slack), not a leak', () => {
      const rss = flat(40, 100);
      const fds = [...flat(10, 20), ...flat(10, 30), 46, 33, ...flat(18, 31)];
      const v = resourceVerdict(life('worker-1', 3, rss, fds), warmUp10s);
      expect(v.passed).toBe(true);
      const fdCheck = v.lives[0]?.checks?.find((c) => c.resource === 'fds');
      // 10 % of 30 is 3; the slack of 16 is larger: up to 46.
      expect(fdCheck).toMatchObject({ baseline: 30, allowed: 46, max: 46, within: true });
    });

    it('fails descriptors that keep growing (one more a second)', () => {
      const rss = flat(40, 100);
      const fds = Array.from({ length: 40 }, (_, i) => 30 + i);
      const v = resourceVerdict(life('worker-1', 3, rss, fds), warmUp10s);
      expect(v.passed).toBe(false);
      expect(v.grew).toEqual([
        expect.objectContaining({ resource: 'fds', baseline: 42, allowed: 58, max: 69 }),
      ]);
    });

    it('uses 10 % when it is larger than the slack', () => {
      const fds = [...flat(10, 200), ...flat(20, 200), 219, 221, ...flat(8, 200)];
      const v = resourceVerdict(life('api', 1, flat(40, 100), fds), warmUp10s);
      const fdCheck = v.lives[0]?.checks?.find((c) => c.resource === 'fds');
      expect(fdCheck).toMatchObject({ baseline: 200, allowed: 220, max: 221, within: false });
    });

    it('takes the slack and the tolerance from the options', () => {
      const fds = [...flat(10, 30), ...flat(20, 30), 40, ...flat(9, 30)];
      const samples = life('api', 1, flat(40, 100), fds);
      expect(resourceVerdict(samples, warmUp10s).passed).toBe(true);
      expect(resourceVerdict(samples, { ...warmUp10s, fdSlack: 5 }).passed).toBe(false);
      expect(resourceVerdict(samples, { ...warmUp10s, fdSlack: 10 }).passed).toBe(true);
      expect(resourceVerdict(samples, { ...warmUp10s, fdSlack: 0, tolerance: 0.34 }).passed).toBe(
        true,
      );
    });
  });

  it('judges each life of a restarted process from its own start, with its own warm-up', () => {
    // The first life flat at 200 MB; killed; the second starts low and grows through warm-up.
    const first = life('worker-1', 10, flat(40, 200));
    const second = life(
      'worker-1',
      11,
      [...[90, 120, 150, 170, 180], ...flat(35, 182)],
      30,
      60_000,
    );
    const v = resourceVerdict([...second, ...first], warmUp10s);
    expect(v.passed).toBe(true);
    expect(v.judged).toBe(2);
    expect(v.lives.map((l) => [l.pid, l.checks?.[0]?.baseline])).toEqual([
      [11, 182],
      [10, 200],
    ]);
  });

  it('does not judge a life too short for its warm-up, and does not pass on no judged life', () => {
    const short = life('worker-2', 20, flat(12, 100));
    const v = resourceVerdict(short, warmUp10s);
    expect(v).toMatchObject({ passed: false, judged: 0, notJudged: 1, grew: [] });
    expect(v.lives[0]?.reason).toBe('2 samples after warm-up, fewer than the 10 needed');
    const withLong = resourceVerdict([...short, ...life('api', 1, flat(40, 100))], warmUp10s);
    expect(withLong).toMatchObject({ passed: true, judged: 1, notJudged: 1 });
  });

  it('takes the warm-up as a fraction of each life’s span', () => {
    // 101 samples over 100 s; a quarter is warm-up: the samples from 25 s on are judged.
    const rss = [...flat(25, 300), ...flat(76, 100)];
    const v = resourceVerdict(life('api', 1, rss), { warmUp: { fraction: 0.25 } });
    expect(v.lives[0]).toMatchObject({ warmUpMs: 25_000, samplesAfterWarmUp: 76 });
    expect(v.passed).toBe(true);
    // From 23 s on, the last samples of 300 MB are after warm-up, over a baseline of 100 MB.
    const early = resourceVerdict(life('api', 1, rss), { warmUp: { fraction: 0.23 } });
    expect(early.grew[0]).toMatchObject({ resource: 'rss', baseline: 100, max: 300 });
  });

  describe('an RSS swing for one process (the API: its young generation under a burst)', () => {
    // At a slow pace 120 MB; a burst grows the young generation: 160 MB (+33 %) for 10 s; back to
    // 125 MB when V8 shrinks it. The worker beside it is flat.
    const apiRss = [...flat(10, 100), ...flat(10, 120), ...flat(10, 160), ...flat(10, 125)];
    const samples = [...life('api', 1, apiRss), ...life('worker-1', 2, flat(40, 120))];
    const swing = { ...warmUp10s, rssSwingMbByProcess: { api: 48 } };

    it('fails the swing without it, passes it with it, for that process only', () => {
      expect(resourceVerdict(samples, warmUp10s).grew).toMatchObject([
        { process: 'api', resource: 'rss', baseline: 120, max: 160 },
      ]);
      const v = resourceVerdict(samples, swing);
      expect(v.passed).toBe(true);
      const [api, worker] = v.lives.map((l) => l.checks?.[0]);
      expect(api).toMatchObject({ baseline: 120, endAllowed: 132, allowed: 180, end: 125 });
      expect(worker).toMatchObject({ baseline: 120, endAllowed: 132, allowed: 132 });
      expect(v.lives[0]?.checks?.[1]).toMatchObject({ resource: 'fds', allowed: 46 });
      expect(verdictLines(v)[0]).toContain(
        'allowed ≤ 180.0 MB (a swing; the end ≤ 132.0 MB): within',
      );
    });

    it('still fails a leak: an end that does not come back, or a rise beyond the swing', () => {
      const creeping = [...flat(10, 100), ...Array.from({ length: 30 }, (_, i) => 120 + i)];
      // Baseline 122, end allowed 134.2, max allowed 182.2: the max is within the swing, the end
      // is not.
      expect(resourceVerdict(life('api', 1, creeping), swing).grew).toMatchObject([
        { resource: 'rss', baseline: 122, max: 149, end: 147, within: false },
      ]);
      const beyond = [...flat(20, 120), 181, ...flat(19, 120)];
      expect(resourceVerdict(life('api', 1, beyond), swing).grew).toMatchObject([
        { resource: 'rss', max: 181, end: 120, allowed: 180 },
      ]);
    });
  });

  describe('a descriptor swing for one process (the API: its sockets follow the requests in flight)', () => {
    const swing = { ...warmUp10s, fdSwingByProcess: { api: 50 } };
    const rss = flat(40, 120);

    it('passes sockets that come and go with the load, for that process only', () => {
      // Seen in a 30-minute soak: 23 to 70 under the traffic, 23 after it.
      const fds = [...flat(10, 25), ...flat(5, 29), 70, 45, 30, ...flat(12, 29), ...flat(10, 23)];
      expect(resourceVerdict(life('api', 1, rss, fds), warmUp10s).grew).toMatchObject([
        { process: 'api', resource: 'fds', baseline: 29, max: 70 },
      ]);
      const v = resourceVerdict(life('api', 1, rss, fds), swing);
      expect(v.passed).toBe(true);
      expect(v.lives[0]?.checks?.[1]).toMatchObject({ endAllowed: 45, allowed: 95, end: 23 });
      expect(resourceVerdict(life('worker-1', 2, rss, fds), swing).grew).toMatchObject([
        { process: 'worker-1', resource: 'fds' },
      ]);
    });

    it('still fails a descriptor leak: the end does not come back', () => {
      const leaking = [...flat(10, 25), ...Array.from({ length: 30 }, (_, i) => 29 + i)];
      expect(resourceVerdict(life('api', 1, rss, leaking), swing).grew).toMatchObject([
        { resource: 'fds', within: false },
      ]);
      expect(() =>
        resourceVerdict(life('api', 1, rss), { ...warmUp10s, fdSwingByProcess: { api: -1 } }),
      ).toThrow('descriptor swing');
    });
  });

  it('refuses options that make no sense', () => {
    const s = life('api', 1, flat(20, 100));
    expect(() => resourceVerdict(s, { ...warmUp10s, rssSwingMbByProcess: { api: -1 } })).toThrow(
      'swing',
    );
    expect(() => resourceVerdict(s, { warmUp: { fraction: 1 } })).toThrow('fraction');
    expect(() => resourceVerdict(s, { warmUp: { afterMs: -1 } })).toThrow('warm-up time');
    expect(() => resourceVerdict(s, { ...warmUp10s, baselineSamples: 0 })).toThrow();
    expect(() =>
      resourceVerdict(s, { ...warmUp10s, baselineSamples: 5, minSamplesAfterWarmUp: 3 }),
    ).toThrow();
  });
});

describe('verdictLines', () => {
  it('gives each life and resource its figures and says which grew', () => {
    const rss = [...flat(10, 150), ...Array.from({ length: 30 }, (_, i) => 200 + i)];
    const v = resourceVerdict(
      [...life('worker-1', 7, rss), ...life('worker-2', 8, flat(3, 100))],
      warmUp10s,
    );
    expect(verdictLines(v)).toEqual([
      'rss worker-1 (pid 7, 39 s, 30 samples after 10 s warm-up): baseline 202.0 MB, max 229.0 MB (+13.4 %) at 39 s, end 227.0 MB (+12.4 %), allowed ≤ 222.2 MB: GREW',
      'fds worker-1 (pid 7, 39 s, 30 samples after 10 s warm-up): baseline 30 fds, max 30 fds (+0.0 %) at 10 s, end 30 fds (+0.0 %), allowed ≤ 46 fds: within',
      'resources worker-2 (pid 8, 2 s, 0 samples after 10 s warm-up): not judged: 0 samples after warm-up, fewer than the 10 needed',
      'resources: NOT flat: 1 lives judged, 1 checks over their limit, 1 lives too short to judge',
    ]);
  });
});
