import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../ports/clock.ts';
import type { AwsErrorKind, MappingObservation, MappingRef, Metrics } from '../ports/metrics.ts';
import { type DeploymentOutcome, metrics as defs, type JobStep } from './definitions.ts';
import { daysUntil, MappingTable } from './mapping-table.ts';

export interface PrometheusMetricsOptions {
  readonly clock: Clock;
  /** At most this many mappings have series (the per-mapping gauges' cardinality bound). */
  readonly maxMappings: number;
  /** Adds Node's process metrics (CPU, memory, event loop lag) under `process_` and `nodejs_`. */
  readonly processMetrics?: boolean;
}

const mappingLabels = (m: MappingRef) => ({
  certificate_arn: m.certificateArn,
  cert_name: m.certName,
  target: m.target,
});

/**
 * The Metrics port as prom-client series in a registry of its own (served on the metrics
 * listener, metrics/metrics-server.ts). Counters and histograms are updated as events happen;
 * the per-mapping gauges are computed at each scrape from what the worker recorded (days to
 * expiry from the notAfter, so they stay true between deployments), never from the table.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  readonly #mappings: MappingTable;
  readonly #deployments: Counter<'outcome'>;
  readonly #jobs: Histogram<'outcome'>;
  readonly #steps: Histogram<'step' | 'result'>;
  readonly #lag: Histogram;
  readonly #calls: Counter<'service' | 'operation'>;
  readonly #errors: Counter<'service' | 'operation' | 'kind'>;

  constructor(options: PrometheusMetricsOptions) {
    const { clock } = options;
    const registers = [this.registry];
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
    this.#mappings = new MappingTable(options.maxMappings);
    const mappings = this.#mappings;
    this.#deployments = new Counter({ ...base(defs.deployments), registers });
    this.#jobs = new Histogram({ ...base(defs.jobDuration), registers });
    this.#steps = new Histogram({ ...base(defs.stepDuration), registers });
    this.#lag = new Histogram({ ...base(defs.queueLag), registers });
    this.#calls = new Counter({ ...base(defs.awsCalls), registers });
    this.#errors = new Counter({ ...base(defs.awsErrors), registers });
    new Gauge({
      ...base(defs.daysToExpiry),
      registers,
      collect() {
        this.reset();
        const now = clock.now();
        for (const m of mappings) {
          const days = m.notAfter === undefined ? undefined : daysUntil(m.notAfter, now);
          if (days !== undefined) this.set(mappingLabels(m.ref), days);
        }
      },
    });
    new Gauge({
      ...base(defs.minDaysToExpiry),
      registers,
      collect() {
        this.reset();
        const now = clock.now();
        let min: number | undefined;
        for (const m of mappings) {
          const days = m.notAfter === undefined ? undefined : daysUntil(m.notAfter, now);
          if (days !== undefined && (min === undefined || days < min)) min = days;
        }
        if (min !== undefined) this.set(min);
      },
    });
    for (const [def, field] of [
      [defs.serversConverged, 'serversConverged'],
      [defs.servers, 'servers'],
    ] as const) {
      new Gauge({
        ...base(def),
        registers,
        collect() {
          this.reset();
          for (const m of mappings) {
            const value = m[field];
            if (value !== undefined) this.set(mappingLabels(m.ref), value);
          }
        },
      });
    }
  }

  deploymentFinished(outcome: DeploymentOutcome, seconds: number): void {
    this.#deployments.inc({ outcome });
    if (seconds >= 0) this.#jobs.observe({ outcome }, seconds);
  }

  stepFinished(step: JobStep, result: 'done' | 'waiting' | 'error', seconds: number): void {
    this.#steps.observe({ step, result }, Math.max(0, seconds));
  }

  messagePickedUp(lagSeconds: number): void {
    this.#lag.observe(Math.max(0, lagSeconds));
  }

  mappingObserved(mapping: MappingRef, observation: MappingObservation): void {
    this.#mappings.observe(mapping, observation);
  }

  mappingForgotten(mapping: MappingRef): void {
    this.#mappings.forget(mapping);
  }

  awsCall(service: string, operation: string, error?: AwsErrorKind): void {
    this.#calls.inc({ service, operation });
    if (error !== undefined) this.#errors.inc({ service, operation, kind: error });
  }

  /** The text a scrape answers, and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}

function base(def: {
  readonly prometheus: {
    readonly name: string;
    readonly help: string;
    readonly labels: readonly string[];
    readonly buckets?: readonly number[];
  };
}) {
  const p = def.prometheus;
  return {
    name: p.name,
    help: p.help,
    labelNames: [...p.labels],
    ...(p.buckets === undefined ? {} : { buckets: [...p.buckets] }),
  };
}
