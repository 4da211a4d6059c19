import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { batchingDeleter } from '../../../src/worker/message-deleter.ts';

/** An SQS client that records what it was sent; a batch fails the handles listed in `failing`. */
function aQueue(failing: readonly string[] = []) {
  const sent: { name: string; handles: string[] }[] = [];
  const sqs = {
    async send(command: unknown) {
      if (command instanceof DeleteMessageBatchCommand) {
        const entries = command.input.Entries ?? [];
        sent.push({ name: 'batch', handles: entries.map((e) => e.ReceiptHandle ?? '') });
        return {
          Successful: entries.filter((e) => !failing.includes(e.ReceiptHandle ?? '')),
          Failed: entries
            .filter((e) => failing.includes(e.ReceiptHandle ?? ''))
            .map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
        };
      }
      if (command instanceof DeleteMessageCommand) {
        sent.push({ name: 'one', handles: [command.input.ReceiptHandle ?? ''] });
        return {};
      }
      throw new Error('unexpected command');
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

describe('the batching deleter', () => {
  it('deletes one message alone with DeleteMessage', async () => {
    const q = aQueue();
    await batchingDeleter(q.sqs, 'url', 5).delete('h1');
    expect(q.sent).toEqual([{ name: 'one', handles: ['h1'] }]);
  });

  it('deletes the messages asked for together in one DeleteMessageBatch, ten at most', async () => {
    const q = aQueue();
    const deleter = batchingDeleter(q.sqs, 'url', 5);
    const handles = Array.from({ length: 12 }, (_, i) => `h${i}`);
    await Promise.all(handles.map((h) => deleter.delete(h)));
    expect(q.sent.map((s) => [s.name, s.handles.length])).toEqual([
      ['batch', 10],
      ['batch', 2],
    ]);
    expect(q.sent.flatMap((s) => s.handles)).toEqual(handles);
  });

  it('deletes again alone what the batch reports failed', async () => {
    const q = aQueue(['h2']);
    const deleter = batchingDeleter(q.sqs, 'url', 5);
    await Promise.all(['h1', 'h2', 'h3'].map((h) => deleter.delete(h)));
    expect(q.sent).toEqual([
      { name: 'batch', handles: ['h1', 'h2', 'h3'] },
      { name: 'one', handles: ['h2'] },
    ]);
  });
});
