import type { DeployMessage } from '../messages/deploy-message.ts';
import type { ReconcileMappingMessage, ReconcileMessage } from '../messages/reconcile.ts';

/** What the service itself puts on its queue: jobs, and the steps of a reconciliation sweep. */
export type QueueMessage = DeployMessage | ReconcileMessage | ReconcileMappingMessage;

/** The job queue, as producers (API, CLI, fan-out of renewals) see it. */
export interface JobQueue {
  /**
   * Resolves once SQS has durably accepted the message. `delaySeconds` (0-900) hides it that
   * long first.
   */
  send(message: QueueMessage, options?: { delaySeconds?: number }): Promise<{ messageId: string }>;
}
