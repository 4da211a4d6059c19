/**
 * How `npm run bench` prints a figure: one JSON line,
 * `{"figure":"requests_first_deployment","value":14.2,"target":12,"better":"lower","met":false,…}`
 * — its name, the value compared with the target, the target, which way is better, whether the
 * target is met, then any details. A figure gets its target from `targets` below (one place for
 * every target), or carries it itself as `target` + `better`, or `target_max` / `target_min`.
 * A figure without a target prints `"target":null,"met":null`. A figure with `failed` above 0
 * never meets its target. Each line also carries the 1-minute load average when it was printed.
 */
import { cpus, loadavg, totalmem } from 'node:os';

export interface Target {
  readonly value: number;
  readonly better: 'lower' | 'higher';
  /** Where the target comes from, when it is not issue 13's. */
  readonly source?: string;
}

/** Targets by figure name (issue 13's unless `source` says otherwise). */
export const targets: Readonly<Record<string, Target>> = {
  requests_first_deployment: { value: 12, better: 'lower' },
  requests_repeat_deployment: { value: 10, better: 'lower' },
  orchestration_overhead_ms: {
    value: 1500,
    better: 'lower',
    source: 'p50 with 2 instant servers (issue 3; the original polled every 15 s)',
  },
  throughput_share_of_export_limit: {
    value: 0.9,
    better: 'higher',
    source: 'instant servers (issue 3); issue 13 asks 0.95 with 3-s servers',
  },
  process_start_ms: { value: 500, better: 'lower' },
  process_idle_rss_mb: { value: 120, better: 'lower' },
};

export interface Figure {
  readonly figure: string;
  readonly value: number | null;
  readonly target: number | null;
  readonly better?: 'lower' | 'higher';
  readonly met: boolean | null;
  readonly [detail: string]: unknown;
}

/** A figure as printed: target and whether it is met next to its value. */
export function withTarget(raw: {
  readonly figure: string;
  readonly [k: string]: unknown;
}): Figure {
  const { figure, value, target, better, target_max, target_min, met, ...details } = raw as Record<
    string,
    unknown
  > & { figure: string };
  const own: Target | undefined =
    typeof target === 'number' && (better === 'lower' || better === 'higher')
      ? { value: target, better }
      : typeof target_max === 'number'
        ? { value: target_max, better: 'lower' }
        : typeof target_min === 'number'
          ? { value: target_min, better: 'higher' }
          : undefined;
  const t = own ?? targets[figure];
  const v = typeof value === 'number' && Number.isFinite(value) ? value : null;
  let isMet: boolean | null = typeof met === 'boolean' ? met : null;
  if (isMet === null && t !== undefined && v !== null) {
    isMet = t.better === 'lower' ? v <= t.value : v >= t.value;
    if (typeof details.failed === 'number' && details.failed > 0) isMet = false;
  }
  return {
    figure,
    value: v,
    target: t?.value ?? null,
    ...(t === undefined ? {} : { better: t.better }),
    met: isMet,
    ...(t?.source === undefined ? {} : { target_source: t.source }),
    ...details,
  };
}

/**
 * Prints figures, each as soon as it is measured (a later failure keeps the earlier ones), with
 * the machine's 1-minute load average when it was printed (`load_1m`, of `cpus` cores).
 */
let machinePrinted = false;

export function emit(...figures: readonly { readonly figure: string }[]): void {
  if (!machinePrinted) {
    machinePrinted = true;
    console.error(machine());
  }
  const load = { load_1m: Math.round((loadavg()[0] ?? 0) * 100) / 100, cpus: cpus().length };
  for (const f of figures) console.log(JSON.stringify({ ...withTarget(f), ...load }));
}

/** The machine, printed on stderr with the first figure (docs/benchmarks.md records it per run). */
export function machine(): string {
  const [one = 0, five = 0] = loadavg();
  return `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}; load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min)`;
}
