/**
 * The soak's summary: what was sent and injected, how the jobs ended, and one line per check
 * (each invariant, each resource verdict, the run's own health), the run failing when any check
 * does. Pure: run.ts gathers the figures, this lays them out (and summary.json keeps them).
 */

export interface Check {
  readonly kind: 'invariant' | 'resources' | 'run';
  readonly name: string;
  readonly holds: boolean;
  /** How many things were checked. */
  readonly count: number;
  /** What broke, or the figures behind a pass. Never a secret. */
  readonly detail: string;
}

export interface SoakSummary {
  readonly seed: number;
  readonly minutes: number;
  readonly rate: number;
  readonly workers: number;
  readonly drainedSeconds: number;
  readonly settled: boolean;
  readonly totalSeconds: number;
  readonly traffic: Readonly<Record<string, number>>;
  readonly duplicated: Readonly<Record<string, number>>;
  readonly answers: Readonly<Record<string, number>>;
  readonly faults: Readonly<Record<string, number>>;
  readonly jobs: Readonly<Record<string, number>>;
  readonly checks: readonly Check[];
}

export function passed(summary: Pick<SoakSummary, 'checks'>): boolean {
  return summary.checks.every((c) => c.holds);
}

function list(counts: Readonly<Record<string, number>>, extra?: (key: string) => string): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return 'none';
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}${extra?.(k) ?? ''}`)
    .join(' · ');
}

/** The summary as lines a person reads (stdout and summary.txt). */
export function formatSummary(s: SoakSummary): string {
  const total = Object.values(s.jobs).reduce((a, n) => a + n, 0);
  const lines = [
    `soak: ${s.minutes} min of traffic at ${s.rate}/s, ${s.workers} workers and the API, seed ${s.seed}; ` +
      (s.settled
        ? `settled ${s.drainedSeconds} s after the traffic stopped`
        : `NOT settled ${s.drainedSeconds} s after the traffic stopped`) +
      `; ${s.totalSeconds} s in all`,
    `traffic   ${list(s.traffic, (k) => (s.duplicated[k] ? ` (${s.duplicated[k]} twice)` : ''))}`,
    `answers   ${list(s.answers)}`,
    `faults    ${list(s.faults)}`,
    `jobs      ${total}: ${list(s.jobs)}`,
    ...s.checks.map(
      (c) =>
        `${c.holds ? 'ok  ' : 'FAIL'} ${c.kind.padEnd(9)} ${c.name} (${c.count})${c.detail === '' ? '' : `: ${c.detail}`}`,
    ),
    passed(s) ? 'soak: PASSED' : 'soak: FAILED',
  ];
  return `${lines.join('\n')}\n`;
}
