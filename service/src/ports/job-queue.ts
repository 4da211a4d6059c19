import type { DeployMessage } from '../messages/deploy-message.ts';

/** The job queue, as producers (API, CLI, fan-out of renewals) see it. */
export interface JobQueue {
  /**
   * Resolves once SQS has durably accepted the message. `delaySeconds` (0-900) hides it that
   * long first.
   */
  send(message: DeployMessage, options?: { delaySeconds?: number }): Promise<{ messageId: string }>;
}
