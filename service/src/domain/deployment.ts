import type { DeployJob } from './deploy-job.ts';

/** Where a deployment is. The last six are terminal. */
export type DeploymentStatus =
  | 'Queued'
  | 'Exporting'
  | 'Dispatching'
  | 'Running'
  | 'Succeeded'
  | 'PartiallyFailed'
  | 'Failed'
  | 'TimedOut'
  | 'NoTargets'
  | 'Cancelled';

/** The statuses a job ends in (the outcomes the metrics count). */
export const terminalStatusList = [
  'Succeeded',
  'PartiallyFailed',
  'Failed',
  'TimedOut',
  'NoTargets',
  'Cancelled',
] as const satisfies readonly DeploymentStatus[];

export const terminalStatuses: ReadonlySet<DeploymentStatus> = new Set(terminalStatusList);

export function isTerminal(status: DeploymentStatus): boolean {
  return terminalStatuses.has(status);
}

/** Condition types recorded on a deployment, in the order a job passes them. */
export type ConditionType = 'Exported' | 'Dispatched' | 'Completed';

/**
 * A Kubernetes-style condition: `lastTransitionTime` moves only when `status` changes.
 */
export interface Condition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

/** The JSON summary the install script prints as its last line. */
export interface InstallSummary {
  readonly outcome: string;
  readonly serial: string | null;
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  readonly sha256: string | null;
  readonly files: readonly string[];
  readonly reloaded: boolean;
  readonly message?: string;
  /** Verify runs: what differs from what the mapping wants (problem codes); empty when nothing. */
  readonly problems?: readonly string[];
}

/** One server's result, as SSM reports it plus the script's summary. */
export interface ServerResult {
  readonly instanceId: string;
  readonly status: string;
  readonly statusDetails: string;
  readonly responseCode?: number;
  readonly summary?: InstallSummary;
  /** Last lines of stderr when the server failed (never contains secrets: the script prints none). */
  readonly error?: string;
  readonly updatedAt: string;
}

/** The certificate as exported for this job. */
export interface ExportedCertificate {
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

/** The deployment record: one per job, in the deployments table. Holds no secret. */
export interface Deployment {
  readonly job: DeployJob;
  readonly status: DeploymentStatus;
  /** A sentence a person can act on, for terminal statuses. */
  readonly reason?: string;
  readonly conditions: readonly Condition[];
  readonly secretArn?: string;
  readonly secretVersionId?: string;
  readonly certificate?: ExportedCertificate;
  readonly commandId?: string;
  /**
   * A job with a canary: `canary` while its first batch runs (`canaryServers`), then `rest` once
   * every one of them succeeded (`canaryCommandId` keeps the first command). Absent: one command.
   * Each phase sends its own command, with its own comment (worker/canary.ts).
   */
  readonly phase?: 'canary' | 'rest';
  readonly canaryServers?: readonly string[];
  readonly canaryCommandId?: string;
  /** Set just before SendCommand: a job resumed after a crash looks for its command first. */
  readonly dispatchStartedAt?: string;
  /**
   * When a SendCommand of this phase last failed without an answer (Run Command may have taken
   * the command and not list it yet): no other is sent until `dispatchSettleMs` after it.
   */
  readonly dispatchFailedAt?: string;
  readonly dispatchedAt?: string;
  /**
   * How far the command got, as Run Command counts it; `succeeded` and `failed` once the job
   * ended. The per-server results are items of their own (ports/server-store.ts): a record stays
   * small whatever the number of servers.
   */
  readonly counts?: {
    readonly target: number;
    readonly completed: number;
    readonly errors: number;
    readonly succeeded?: number;
    readonly failed?: number;
  };
  /**
   * Someone asked to cancel the job (POST /v1/deployments/{id}/cancel): the worker ends it
   * `Cancelled` at its next look, cancelling its command if one was sent, and sends none after.
   */
  readonly cancelRequest?: { readonly at: string; readonly by: string };
  /** When the worker asked Run Command to cancel the job's command (once). */
  readonly commandCancelledAt?: string;
  /** How many times a worker picked the job up (receives), and how many of them failed. */
  readonly attempts: number;
  readonly failures: number;
  readonly lastError?: string;
  /**
   * The pickup in progress. Still set when the same message is received again means the worker
   * died mid-step: that counts as a failure (polling pickups end cleanly and clear it).
   */
  readonly activeAttempt?: {
    readonly messageId: string;
    readonly receiveCount: number;
    readonly startedAt: string;
  };
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** Optimistic-concurrency counter: every write is conditional on the version it read. */
  readonly version: number;
}
