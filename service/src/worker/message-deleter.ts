import {
  DeleteMessageBatchCommand,
  type DeleteMessageBatchResultEntry,
  DeleteMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { withRetry } from '../adapters/aws-errors.ts';

/** Deletes handled messages; several asked for within `windowMs` go in one request. */
export interface MessageDeleter {
  delete(receiptHandle: string): Promise<void>;
}

interface Pending {
  readonly receiptHandle: string;
  resolve(): void;
  reject(error: unknown): void;
}

/** DeleteMessageBatch takes at most 10 entries. */
const maxBatch = 10;

/**
 * Deletes messages in batches: the deletes asked for within `windowMs` of the first one (up to
 * 10) go in one DeleteMessageBatch — a job's message and the Run Command event that resumed it
 * end together, and under load many jobs do. Each caller learns its own message's fate: an entry
 * the batch reports failed is deleted again alone (with retries), whose error the caller gets.
 * One message alone is one DeleteMessage, as before.
 */
export function batchingDeleter(sqs: SQSClient, queueUrl: string, windowMs = 10): MessageDeleter {
  let pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function deleteOne(receiptHandle: string): Promise<void> {
    await withRetry(() =>
      sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle })),
    );
  }

  async function send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      await deleteOne(only.receiptHandle).then(only.resolve, only.reject);
      return;
    }
    let failed: readonly DeleteMessageBatchResultEntry[] | undefined;
    try {
      const out = await withRetry(() =>
        sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((p, i) => ({ Id: String(i), ReceiptHandle: p.receiptHandle })),
          }),
        ),
      );
      failed = out.Failed;
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    const again = new Set((failed ?? []).map((f) => Number(f.Id)));
    await Promise.all(
      batch.map((p, i) =>
        again.has(i) ? deleteOne(p.receiptHandle).then(p.resolve, p.reject) : p.resolve(),
      ),
    );
  }

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    void send(batch);
  }

  return {
    delete(receiptHandle) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ receiptHandle, resolve, reject });
        if (pending.length >= maxBatch) flush();
        else timer ??= setTimeout(flush, windowMs);
      });
    },
  };
}
