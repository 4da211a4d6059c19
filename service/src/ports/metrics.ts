import type { DeploymentOutcome, JobStep } from '../metrics/definitions.ts';

/** One mapping, as the metrics name it. */
export interface MappingRef {
  readonly certificateArn: string;
  readonly certName: string;
  /** `key=value`. */
  readonly target: string;
}

/** What the worker learnt about a mapping; absent fields keep what was known. */
export interface MappingObservation {
  /** The notAfter of the certificate the mapping last installed (ISO 8601). */
  readonly notAfter?: string;
  /** Servers of the target holding the mapping's serial, out of `servers`. */
  readonly serversConverged?: number;
  readonly servers?: number;
}

/** How an AWS request ended badly. */
export type AwsErrorKind = 'throttled' | 'client' | 'server' | 'network';

/**
 * What the service measures, in its own words. The worker and the API call it; adapters turn
 * the calls into Prometheus series and Embedded Metric Format lines (service/src/metrics/).
 * Every method is synchronous and never throws: measuring never fails a job.
 */
export interface Metrics {
  /** A deployment reached its outcome, `seconds` after it was requested. */
  deploymentFinished(outcome: DeploymentOutcome, seconds: number): void;
  /** One pickup spent `seconds` in a step, which ended `result`. */
  stepFinished(step: JobStep, result: 'done' | 'waiting' | 'error', seconds: number): void;
  /** A worker took a message off the queue `lagSeconds` after it was sent (first receive only). */
  messagePickedUp(lagSeconds: number): void;
  mappingObserved(mapping: MappingRef, observation: MappingObservation): void;
  /** The mapping is gone (stop-managing, or a first deployment that failed and was abandoned). */
  mappingForgotten(mapping: MappingRef): void;
  /** One AWS request (an attempt: retries count) and, when it failed, how. */
  awsCall(service: string, operation: string, error?: AwsErrorKind): void;
}

/** Measures nothing (processes and tests that do not look). */
export const noMetrics: Metrics = {
  deploymentFinished() {},
  stepFinished() {},
  messagePickedUp() {},
  mappingObserved() {},
  mappingForgotten() {},
  awsCall() {},
};
