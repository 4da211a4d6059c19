import type { DeploymentOutcome, JobStep } from '../../src/metrics/definitions.ts';
import type {
  AwsErrorKind,
  MappingObservation,
  MappingRef,
  Metrics,
} from '../../src/ports/metrics.ts';

/** The Metrics port's fake: every call recorded, in order, for the test to read. */
export class RecordingMetrics implements Metrics {
  readonly deployments: Array<{ outcome: DeploymentOutcome; seconds: number }> = [];
  readonly steps: Array<{ step: JobStep; result: string; seconds: number }> = [];
  readonly lags: number[] = [];
  readonly mappings: Array<{ mapping: MappingRef; observation: MappingObservation }> = [];
  readonly forgotten: MappingRef[] = [];
  readonly calls: Array<{ service: string; operation: string; error?: AwsErrorKind }> = [];

  deploymentFinished(outcome: DeploymentOutcome, seconds: number): void {
    this.deployments.push({ outcome, seconds });
  }
  stepFinished(step: JobStep, result: 'done' | 'waiting' | 'error', seconds: number): void {
    this.steps.push({ step, result, seconds });
  }
  messagePickedUp(lagSeconds: number): void {
    this.lags.push(lagSeconds);
  }
  mappingObserved(mapping: MappingRef, observation: MappingObservation): void {
    this.mappings.push({ mapping, observation });
  }
  mappingForgotten(mapping: MappingRef): void {
    this.forgotten.push(mapping);
  }
  awsCall(service: string, operation: string, error?: AwsErrorKind): void {
    this.calls.push({ service, operation, ...(error === undefined ? {} : { error }) });
  }
}
