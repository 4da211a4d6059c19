import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { withRetry } from '../adapters/aws-errors.ts';

/** ChangeMessageVisibilityBatch takes at most 10 entries. */
const maxBatch = 10;

export interface Releasable {
  readonly ReceiptHandle?: string | undefined;
  readonly MessageId?: string | undefined;
}

/**
 * Makes messages visible again at once (visibility 0) for another worker: what a stopping
 * worker does with each message it holds and will not finish. One message is one
 * ChangeMessageVisibility; more go ten to a ChangeMessageVisibilityBatch. Each call is tried
 * again once when its error is retryable (adapters/aws-errors.ts), never when terminal; a
 * failure is logged and harmless: the message reappears when its visibility timeout ends, as
 * after a crash. Resolves to how many were handed back; never rejects.
 */
export async function releaseMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Releasable[],
  logger: Logger,
): Promise<number> {
  const chunks: Releasable[][] = [];
  for (let i = 0; i < messages.length; i += maxBatch) {
    chunks.push(messages.slice(i, i + maxBatch));
  }
  const released = await Promise.all(chunks.map((chunk) => releaseChunk(chunk)));
  return released.reduce((a, b) => a + b, 0);

  async function releaseChunk(chunk: readonly Releasable[]): Promise<number> {
    try {
      if (chunk.length === 1) {
        const [only] = chunk as [Releasable];
        await withRetry(
          () =>
            sqs.send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: queueUrl,
                ReceiptHandle: only.ReceiptHandle,
                VisibilityTimeout: 0,
              }),
            ),
          { retries: 1 },
        );
        return 1;
      }
      const out = await withRetry(
        () =>
          sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle,
                VisibilityTimeout: 0,
              })),
            }),
          ),
        { retries: 1 },
      );
      const failed = out.Failed ?? [];
      for (const f of failed) {
        logger.warn(
          { messageId: chunk[Number(f.Id)]?.MessageId, code: f.Code, senderFault: f.SenderFault },
          'stopping: could not hand a message back; SQS redelivers it after the visibility timeout',
        );
      }
      return chunk.length - failed.length;
    } catch (error) {
      logger.warn(
        { err: error, messageIds: chunk.map((m) => m.MessageId) },
        'stopping: could not hand a message back; SQS redelivers it after the visibility timeout',
      );
      return 0;
    }
  }
}
