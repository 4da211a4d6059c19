import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobQueue, QueueMessage } from '../ports/job-queue.ts';
import { withRetry } from './aws-errors.ts';

/** Producer side of the job queue. */
export class SqsJobQueue implements JobQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.#sqs = sqs;
    this.#queueUrl = queueUrl;
  }

  async send(
    message: QueueMessage,
    options: { delaySeconds?: number } = {},
  ): Promise<{ messageId: string }> {
    const out = await withRetry(() =>
      this.#sqs.send(
        new SendMessageCommand({
          QueueUrl: this.#queueUrl,
          MessageBody: JSON.stringify(message),
          ...(options.delaySeconds === undefined ? {} : { DelaySeconds: options.delaySeconds }),
        }),
      ),
    );
    if (out.MessageId === undefined) throw new Error('SQS accepted the message but returned no id');
    return { messageId: out.MessageId };
  }
}
