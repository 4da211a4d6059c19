/**
 * Whether a process's resources stayed flat after warm-up (issue 16 point 4): a pure function of
 * the samples `resources.ts` took.
 *
 * The rule, per process life (a name and a pid: a process restarted under the same name is a new
 * life with its own warm-up) and per resource (VmRSS in MB, open file descriptors):
 * - warm-up: the samples of a life's first `afterMs` (from its first sample), or of the first
 *   `fraction` of its sampled span, are not judged;
 * - baseline: the median of the first `baselineSamples` samples after warm-up (a median, so one
 *   sample taken during a burst does not set it);
 * - allowed: baseline + max(tolerance × baseline, slack), tolerance 10 % by default; the absolute
 *   slack matters for small counts: a process with 50 descriptors has 10 % = 5, fewer than the
 *   sockets its concurrent requests open and close: the service with 10 consumers, sampled every
 *   2 s through rounds of deployments, held 34 to 58 (docs/benchmarks.md, Memory over many
 *   deployments), so fds get 16 by default (RSS 0 MB). A leak of one descriptor per job still
 *   fails within 16 jobs after warm-up, one per 10 jobs within 170;
 * - within: EVERY sample after warm-up is ≤ allowed (the maximum, not an average: a leak that is
 *   given back at the end still fails);
 * - a swing: `rssSwingMbByProcess` lets the RSS of the lives of one process name rise that many
 *   MB more for a while, as long as their `end` is back within baseline + the tolerance: for a
 *   process whose young generation V8 grows under a burst of requests and shrinks when the pace
 *   drops (the API process: docs/benchmarks.md, The API process). A leak does not come back: the
 *   end still fails it, and so does a rise beyond the swing;
 * - a descriptor swing: `fdSwingByProcess` does the same for descriptors, for a process whose
 *   open sockets follow the requests in flight (the API process: each request it is answering
 *   holds the caller's connection and one to AWS at most, so twice the soak's requests in flight
 *   bound it). A descriptor leak raises the end: it still fails;
 * - a life with fewer than `minSamplesAfterWarmUp` samples after warm-up is not judged (counted
 *   and reported, never passed silently); the verdict passes when at least one life was judged and
 *   every judged life stayed within, for both resources.
 * Beside the max, `end` (the median of the last `baselineSamples` samples) tells a spike (max
 * high, end back at the baseline) from a trend (end near the max).
 */

/** One reading of one process. `at` is the sampler's clock in ms. */
export interface ResourceSample {
  readonly process: string;
  readonly pid: number;
  readonly at: number;
  readonly rssMb: number;
  readonly fds: number;
}

/** Warm-up: a time from each life's first sample, or a fraction (0–1) of each life's span. */
export type WarmUp = { readonly afterMs: number } | { readonly fraction: number };

export interface VerdictOptions {
  readonly warmUp: WarmUp;
  /** Samples after warm-up whose median is the baseline, and whose last ones give `end`; 5. */
  readonly baselineSamples?: number;
  /** Allowed growth over the baseline, as a fraction; 0.10. */
  readonly tolerance?: number;
  /** Absolute growth always allowed, in MB for RSS; 0. */
  readonly rssSlackMb?: number;
  /**
   * MB the RSS of the lives of a process name (e.g. `api`) may rise above `allowed` for a while,
   * their end (median of the last samples) back within the tolerance; none by default.
   */
  readonly rssSwingMbByProcess?: Readonly<Record<string, number>>;
  /** Absolute growth always allowed, in descriptors; 16. */
  readonly fdSlack?: number;
  /**
   * Descriptors the lives of a process name may rise above `allowed` for a while, their end back
   * within the tolerance; none by default.
   */
  readonly fdSwingByProcess?: Readonly<Record<string, number>>;
  /** A life with fewer samples after warm-up is not judged; 2 × baselineSamples. */
  readonly minSamplesAfterWarmUp?: number;
}

export type Resource = 'rss' | 'fds';

export interface ResourceCheck {
  readonly resource: Resource;
  readonly unit: 'MB' | 'fds';
  readonly baseline: number;
  /** The most any sample after warm-up may be (with a swing, baseline + growth + swing). */
  readonly allowed: number;
  /** The most `end` may be: baseline + the allowed growth, without a swing. */
  readonly endAllowed: number;
  readonly max: number;
  /** When the max was sampled, ms after the life's first sample. */
  readonly maxAfterMs: number;
  readonly end: number;
  /** (max − baseline) / baseline, in %. */
  readonly growthPercent: number;
  readonly endGrowthPercent: number;
  readonly within: boolean;
}

export interface LifeVerdict {
  readonly process: string;
  readonly pid: number;
  /** From the life's first sample to its last, ms. */
  readonly spanMs: number;
  readonly warmUpMs: number;
  readonly samplesAfterWarmUp: number;
  /** Absent when the life was too short to judge (`reason` says why). */
  readonly checks?: readonly ResourceCheck[];
  readonly reason?: string;
}

export interface ResourceVerdict {
  readonly passed: boolean;
  readonly lives: readonly LifeVerdict[];
  readonly judged: number;
  readonly notJudged: number;
  /** The checks that failed, one per life and resource. */
  readonly grew: readonly (ResourceCheck & { readonly process: string; readonly pid: number })[];
}

/** The verdict over every life in `samples` (in any order). */
export function resourceVerdict(
  samples: readonly ResourceSample[],
  options: VerdictOptions,
): ResourceVerdict {
  const k = options.baselineSamples ?? 5;
  const minAfter = options.minSamplesAfterWarmUp ?? 2 * k;
  if (!Number.isInteger(k) || k < 1) throw new Error('baselineSamples must be an integer ≥ 1');
  if (minAfter < k) throw new Error('minSamplesAfterWarmUp must be at least baselineSamples');
  if (
    'fraction' in options.warmUp &&
    !(options.warmUp.fraction >= 0 && options.warmUp.fraction < 1)
  ) {
    throw new Error('a warm-up fraction is in [0, 1)');
  }
  if ('afterMs' in options.warmUp && !(options.warmUp.afterMs >= 0)) {
    throw new Error('a warm-up time is ≥ 0 ms');
  }
  for (const swing of Object.values(options.rssSwingMbByProcess ?? {})) {
    if (!(swing >= 0)) throw new Error('an RSS swing is ≥ 0 MB');
  }
  for (const swing of Object.values(options.fdSwingByProcess ?? {})) {
    if (!(swing >= 0)) throw new Error('a descriptor swing is ≥ 0');
  }
  const lives = new Map<string, ResourceSample[]>();
  for (const s of samples) {
    const key = `${s.process}\u0000${s.pid}`;
    const life = lives.get(key) ?? [];
    life.push(s);
    lives.set(key, life);
  }
  const verdicts: LifeVerdict[] = [];
  for (const life of lives.values()) {
    life.sort((a, b) => a.at - b.at);
    const first = life[0] as ResourceSample;
    const spanMs = (life.at(-1)?.at ?? first.at) - first.at;
    const warmUpMs =
      'afterMs' in options.warmUp ? options.warmUp.afterMs : options.warmUp.fraction * spanMs;
    const swingOf = (swings: Readonly<Record<string, number>> | undefined) =>
      Object.hasOwn(swings ?? {}, first.process) ? (swings?.[first.process] ?? 0) : 0;
    const swingMb = swingOf(options.rssSwingMbByProcess);
    const swingFds = swingOf(options.fdSwingByProcess);
    const after = life.filter((s) => s.at - first.at >= warmUpMs);
    const base = { process: first.process, pid: first.pid, spanMs, warmUpMs };
    if (after.length < minAfter) {
      verdicts.push({
        ...base,
        samplesAfterWarmUp: after.length,
        reason: `${after.length} samples after warm-up, fewer than the ${minAfter} needed`,
      });
      continue;
    }
    const check = (resource: Resource): ResourceCheck => {
      const value = (s: ResourceSample) => (resource === 'rss' ? s.rssMb : s.fds);
      const slack = resource === 'rss' ? (options.rssSlackMb ?? 0) : (options.fdSlack ?? 16);
      const tolerance = options.tolerance ?? 0.1;
      const baseline = median(after.slice(0, k).map(value));
      const endAllowed = baseline + Math.max(tolerance * baseline, slack);
      const allowed = endAllowed + (resource === 'rss' ? swingMb : swingFds);
      let top = after[0] as ResourceSample;
      for (const s of after) if (value(s) > value(top)) top = s;
      const max = value(top);
      const end = median(after.slice(-k).map(value));
      const percent = (x: number) => (baseline === 0 ? 0 : ((x - baseline) / baseline) * 100);
      return {
        resource,
        unit: resource === 'rss' ? 'MB' : 'fds',
        baseline,
        allowed,
        endAllowed,
        max,
        maxAfterMs: top.at - first.at,
        end,
        growthPercent: percent(max),
        endGrowthPercent: percent(end),
        within: max <= allowed && end <= endAllowed,
      };
    };
    verdicts.push({
      ...base,
      samplesAfterWarmUp: after.length,
      checks: [check('rss'), check('fds')],
    });
  }
  const judged = verdicts.filter((v) => v.checks !== undefined);
  const grew = judged.flatMap((v) =>
    (v.checks ?? [])
      .filter((c) => !c.within)
      .map((c) => ({ ...c, process: v.process, pid: v.pid })),
  );
  return {
    passed: judged.length > 0 && grew.length === 0,
    lives: verdicts,
    judged: judged.length,
    notJudged: verdicts.length - judged.length,
    grew,
  };
}

/** One line per judged life and resource, one per life not judged: for the soak's summary. */
export function verdictLines(verdict: ResourceVerdict): string[] {
  const lines: string[] = [];
  const n = (x: number, unit: string) => (unit === 'MB' ? `${x.toFixed(1)} MB` : `${x} fds`);
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;
  for (const life of verdict.lives) {
    const who = `${life.process} (pid ${life.pid}, ${Math.round(life.spanMs / 1000)} s, ${life.samplesAfterWarmUp} samples after ${Math.round(life.warmUpMs / 1000)} s warm-up)`;
    if (life.checks === undefined) {
      lines.push(`resources ${who}: not judged: ${life.reason}`);
      continue;
    }
    for (const c of life.checks) {
      lines.push(
        `${c.resource} ${who}: baseline ${n(c.baseline, c.unit)}, max ${n(c.max, c.unit)} (${pct(c.growthPercent)}) at ${Math.round(c.maxAfterMs / 1000)} s, end ${n(c.end, c.unit)} (${pct(c.endGrowthPercent)}), allowed ≤ ${n(Math.round(c.allowed * 10) / 10, c.unit)}${c.endAllowed === c.allowed ? '' : ` (a swing; the end ≤ ${n(Math.round(c.endAllowed * 10) / 10, c.unit)})`}: ${c.within ? 'within' : 'GREW'}`,
      );
    }
  }
  lines.push(
    `resources: ${verdict.passed ? 'flat' : 'NOT flat'}: ${verdict.judged} lives judged, ${verdict.grew.length} checks over their limit, ${verdict.notJudged} lives too short to judge`,
  );
  return lines;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
