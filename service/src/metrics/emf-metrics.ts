import type { Clock } from '../ports/clock.ts';
import type { AwsErrorKind, Metrics } from '../ports/metrics.ts';
import { type DeploymentOutcome, metrics as defs, type JobStep } from './definitions.ts';
import { emfMembers, maxValuesPerMetric } from './emf.ts';

export interface EmfMetricsOptions {
  readonly namespace: string;
  readonly clock: Clock;
  /** Writes one line (the process's stdout: the log group CloudWatch extracts from). */
  readonly write: (line: string) => void;
}

/**
 * The Metrics port as Embedded Metric Format lines: what happens is summed in memory and written
 * by flush() (the composition root calls it every METRICS_EMF_FLUSH_SECONDS, at shutdown, and in
 * Lambda after each invocation), one line per dimension combination: a few lines a minute
 * whatever the traffic, instead of one per AWS request. Counts are sums, durations are lists of
 * observations (at most 100 per line, more lines when there are more).
 *
 * Deployments are counted on each job's outcome line instead (worker/finish-step.ts, which the
 * alarms read) and the days to expiry on the expiry check's lines: nothing here for them, so
 * nothing is counted twice. The per-mapping gauges stay Prometheus-only (cost: a CloudWatch
 * metric per mapping).
 */
export class EmfMetrics implements Metrics {
  readonly #options: EmfMetricsOptions;
  #jobs: number[] = [];
  #lags: number[] = [];
  #steps = new Map<JobStep, number[]>();
  #calls = new Map<string, { service: string; operation: string; calls: number; errors: number }>();

  constructor(options: EmfMetricsOptions) {
    this.#options = options;
  }

  deploymentFinished(_outcome: DeploymentOutcome, seconds: number): void {
    if (seconds >= 0) this.#jobs.push(seconds);
  }

  stepFinished(step: JobStep, _result: 'done' | 'waiting' | 'error', seconds: number): void {
    const list = this.#steps.get(step) ?? [];
    list.push(Math.max(0, seconds));
    this.#steps.set(step, list);
  }

  messagePickedUp(lagSeconds: number): void {
    this.#lags.push(Math.max(0, lagSeconds));
  }

  mappingObserved(): void {}

  mappingForgotten(): void {}

  awsCall(service: string, operation: string, error?: AwsErrorKind): void {
    const key = `${service}\n${operation}`;
    const entry = this.#calls.get(key) ?? { service, operation, calls: 0, errors: 0 };
    entry.calls++;
    if (error !== undefined) entry.errors++;
    this.#calls.set(key, entry);
  }

  /** Writes what was measured since the last flush; nothing when nothing was. */
  flush(): void {
    const { namespace, clock, write } = this.#options;
    const at = clock.now();
    const line = (members: Record<string, unknown>) => write(JSON.stringify(members));
    for (const [jobs, lags] of zipChunks(this.#jobs, this.#lags)) {
      line(
        emfMembers(namespace, at, {}, [
          ...(jobs.length === 0 ? [] : [[defs.jobDuration.cloudWatch, jobs] as const]),
          ...(lags.length === 0 ? [] : [[defs.queueLag.cloudWatch, lags] as const]),
        ]),
      );
    }
    for (const [step, values] of this.#steps) {
      for (const chunk of chunks(values)) {
        line(emfMembers(namespace, at, { Step: step }, [[defs.stepDuration.cloudWatch, chunk]]));
      }
    }
    for (const c of this.#calls.values()) {
      line(
        emfMembers(namespace, at, { Service: c.service, Operation: c.operation }, [
          [defs.awsCalls.cloudWatch, c.calls],
          // Only when some failed: a 0 would make every operation's error count a billed metric.
          ...(c.errors === 0 ? [] : [[defs.awsErrors.cloudWatch, c.errors] as const]),
        ]),
      );
    }
    this.#jobs = [];
    this.#lags = [];
    this.#steps = new Map();
    this.#calls = new Map();
  }
}

function chunks(values: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < values.length; i += maxValuesPerMetric) {
    out.push(values.slice(i, i + maxValuesPerMetric));
  }
  return out;
}

/** Pairs the two lists' chunks (either may run out first); nothing when both are empty. */
function zipChunks(a: readonly number[], b: readonly number[]): Array<[number[], number[]]> {
  const ca = chunks(a);
  const cb = chunks(b);
  return Array.from({ length: Math.max(ca.length, cb.length) }, (_, i) => [
    ca[i] ?? [],
    cb[i] ?? [],
  ]);
}
