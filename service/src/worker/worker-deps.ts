import type { Logger } from 'pino';
import type { DeploymentPolicy } from '../domain/deployment-policy.ts';
import type { CertificateAuthority } from '../ports/certificate-authority.ts';
import type { Clock } from '../ports/clock.ts';
import type { CommandRunner } from '../ports/command-runner.ts';
import type { DeploymentStore } from '../ports/deployment-store.ts';
import type { InstanceDirectory } from '../ports/instance-directory.ts';
import type { JobQueue } from '../ports/job-queue.ts';
import type { MappingStore } from '../ports/mapping-store.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import type { ServerStore } from '../ports/server-store.ts';

/** Settings the job steps need (from Config; a narrow view keeps the steps easy to test). */
export interface WorkerSettings {
  readonly documentName: string;
  readonly documentVersion?: string;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  readonly commandTimeoutSeconds: number;
  readonly secretPrefix: string;
  readonly secretRecoveryDays: number;
  readonly pollInitialSeconds: number;
  readonly pollMaxSeconds: number;
  /** The command watcher's first look at a command just sent (its events come sooner). */
  readonly commandLookSeconds: number;
  readonly jobTimeoutSeconds: number;
  readonly maxFailures: number;
  readonly lockRetrySeconds: number;
  readonly allowedCertificateArns: readonly string[];
  /** Delay before installing on a server that just started (its SSM agent registers first). */
  readonly instanceSettleSeconds: number;
  /** How long a job for named servers waits for their SSM agents to come online. */
  readonly agentWaitSeconds: number;
  /** What every job must respect (target tag keys, reload commands), whoever queued it. */
  readonly policy: DeploymentPolicy;
  /** The expiry check notifies a server whose copy expires in fewer days than this. */
  readonly expiryNotifyDays: number;
  /** …and a server still holding an older serial this many hours after the export. */
  readonly renewalGraceHours: number;
  /** The CloudWatch namespace of the metrics on the log lines (METRICS_NAMESPACE). */
  readonly metricsNamespace?: string;
}

/** Everything a handler uses: ports, clock, logger, settings. Built by the composition root. */
export interface WorkerDeps {
  readonly certificates: CertificateAuthority;
  readonly secrets: SecretStore;
  readonly mappings: MappingStore;
  readonly deployments: DeploymentStore;
  /** Per-server results and what each server of a mapping holds. */
  readonly servers: ServerStore;
  readonly commands: CommandRunner;
  readonly instances: InstanceDirectory;
  readonly queue: JobQueue;
  /** The operators' notifications (the stack's SNS topic). */
  readonly notifier: Notifier;
  /** Deployments, step durations and mappings measured (Prometheus, EMF: service/src/metrics/). */
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: WorkerSettings;
  /** Waits (abortably); injected so unit tests need no real time. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}
