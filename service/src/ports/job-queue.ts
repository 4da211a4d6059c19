import type { DeployMessage } from '../messages/deploy-message.ts';

/** The job queue, as producers (API, CLI, fan-out of renewals) see it. */
export interface JobQueue {
  /** Resolves once SQS has durably accepted the message. */
  send(message: DeployMessage): Promise<{ messageId: string }>;
}
