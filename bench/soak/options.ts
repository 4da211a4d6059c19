/**
 * `npm run soak -- [options]`: what the soak runs, read and checked once. Every rate and share
 * has a default that turns it on; `--no-faults` turns every fault off at once (a control run).
 */
import { parseArgs } from 'node:util';

export interface FaultOptions {
  /** Shares (0..1) of the service's AWS calls answered by the bed's proxies with a fault. */
  readonly throttle: number;
  readonly serverErrors: number;
  readonly latency: number;
  readonly latencyMaxMs: number;
  readonly drops: number;
  /** Mean seconds between two such events (0: never). */
  readonly killEvery: number;
  readonly termEvery: number;
  readonly standInRestartEvery: number;
}

export interface SoakOptions {
  readonly minutes: number;
  /** Traffic operations per second (each a deployment, event, read, … chosen by weight). */
  readonly rate: number;
  /** Share (0..1) of operations sent twice, as a retry or a duplicate delivery would. */
  readonly duplicates: number;
  /** Worker processes: one is never signalled (its memory is the one measured), the rest are. */
  readonly workers: number;
  readonly seed: number;
  /** How long, after the traffic stops, the run may take to settle before the checks. */
  readonly drainMinutes: number;
  readonly logLevel: string;
  readonly out: string | undefined;
  readonly faults: FaultOptions;
}

export const usage = `npm run soak -- --minutes N [options]

  --minutes N             how long traffic and faults run (0.5 to 600; required)
  --rate R                traffic operations per second (default 0.5)
  --duplicates S          share of operations sent twice (default 0.2)
  --workers N             worker processes, 2 to 8 (default 3; one is never signalled)
  --seed N                the choices of traffic and faults (default: from the clock; printed)
  --drain-minutes N       at most this long to settle after the traffic stops (default 20)
  --log-level L           the service processes' LOG_LEVEL (default info)
  --out DIR               logs and summary (default .state/soak/<time>)
  --no-faults             every fault off (a control run)
  --throttle S            share of AWS calls answered ThrottlingException (default 0.03)
  --server-errors S       share answered 500/503 (default 0.02)
  --latency S             share delayed (default 0.05), by up to --latency-max-ms (default 2000)
  --drops S               share whose connection is dropped (default 0.01)
  --kill-every SECONDS    mean time between SIGKILLs of a worker (default 40; 0: never)
  --term-every SECONDS    mean time between SIGTERMs of a worker (default 50; 0: never)
  --standin-restart-every SECONDS
                          mean time between restarts of the Run Command stand-in's API
                          (default 60; 0: never)`;

function number(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
    throw new Error(`--${name} must be a number, got ${JSON.stringify(raw)}`);
  }
  if (integer && !Number.isInteger(n)) throw new Error(`--${name} must be a whole number`);
  if (n < min || n > max) throw new Error(`--${name} must be from ${min} to ${max}, got ${n}`);
  return n;
}

export function parseSoakOptions(args: readonly string[], now = Date.now()): SoakOptions {
  const stringOptions = [
    'minutes',
    'rate',
    'duplicates',
    'workers',
    'seed',
    'drain-minutes',
    'log-level',
    'out',
    'throttle',
    'server-errors',
    'latency',
    'latency-max-ms',
    'drops',
    'kill-every',
    'term-every',
    'standin-restart-every',
  ] as const;
  const { values: parsed } = parseArgs({
    args: [...args],
    options: {
      ...Object.fromEntries(stringOptions.map((o) => [o, { type: 'string' as const }])),
      'no-faults': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const values = parsed as Record<string, string | boolean | undefined>;
  if (values.help === true) throw new Error(usage);
  if (values.minutes === undefined) throw new Error(`--minutes is required\n\n${usage}`);
  const v: Record<string, unknown> = values;
  const off = values['no-faults'] === true;
  const share = (name: string, fallback: number) => (off ? 0 : number(v, name, fallback, 0, 1));
  const every = (name: string, fallback: number) =>
    off ? 0 : number(v, name, fallback, 0, 86_400);
  const logLevel = (values['log-level'] as string | undefined) ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(logLevel)) {
    throw new Error(`--log-level must be fatal, error, warn, info, debug or trace`);
  }
  return {
    minutes: number(v, 'minutes', 0, 0.5, 600),
    rate: number(v, 'rate', 0.5, 0.1, 50),
    duplicates: number(v, 'duplicates', 0.2, 0, 1),
    workers: number(v, 'workers', 3, 2, 8, true),
    seed: number(v, 'seed', now % 2 ** 31, 0, 2 ** 31 - 1, true),
    drainMinutes: number(v, 'drain-minutes', 20, 1, 120),
    logLevel,
    out: values.out as string | undefined,
    faults: {
      throttle: share('throttle', 0.03),
      serverErrors: share('server-errors', 0.02),
      latency: share('latency', 0.05),
      latencyMaxMs: number(v, 'latency-max-ms', 2000, 1, 60_000, true),
      drops: share('drops', 0.01),
      killEvery: every('kill-every', 40),
      termEvery: every('term-every', 50),
      standInRestartEvery: every('standin-restart-every', 60),
    },
  };
}
