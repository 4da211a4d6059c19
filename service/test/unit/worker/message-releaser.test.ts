import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import { releaseMessages } from '../../../src/worker/message-releaser.ts';

/** An SQS error as the SDK throws it: a name and an HTTP status. */
function sqsError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

/**
 * An SQS client that records what it was sent; a batch fails the handles in `failing`; `throws`
 * answers each call with the next error listed (then succeeds).
 */
function aQueue(failing: readonly string[] = [], throws: Error[] = []) {
  const sent: { name: string; handles: string[]; visibility: number[] }[] = [];
  const sqs = {
    async send(command: unknown) {
      if (command instanceof ChangeMessageVisibilityBatchCommand) {
        const entries = command.input.Entries ?? [];
        sent.push({
          name: 'batch',
          handles: entries.map((e) => e.ReceiptHandle ?? ''),
          visibility: entries.map((e) => e.VisibilityTimeout ?? -1),
        });
        const error = throws.shift();
        if (error !== undefined) throw error;
        return {
          Successful: entries.filter((e) => !failing.includes(e.ReceiptHandle ?? '')),
          Failed: entries
            .filter((e) => failing.includes(e.ReceiptHandle ?? ''))
            .map((e) => ({ Id: e.Id, Code: 'ReceiptHandleIsInvalid', SenderFault: true })),
        };
      }
      if (command instanceof ChangeMessageVisibilityCommand) {
        sent.push({
          name: 'one',
          handles: [command.input.ReceiptHandle ?? ''],
          visibility: [command.input.VisibilityTimeout ?? -1],
        });
        const error = throws.shift();
        if (error !== undefined) throw error;
        return {};
      }
      throw new Error('unexpected command');
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { lines, logger };
}

const messages = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ MessageId: `m${i}`, ReceiptHandle: `h${i}` }));

describe('handing messages back to the queue', () => {
  it('makes one message visible at once with ChangeMessageVisibility', async () => {
    const q = aQueue();
    const { logger } = logCapture();
    expect(await releaseMessages(q.sqs, 'url', messages(1), logger)).toBe(1);
    expect(q.sent).toEqual([{ name: 'one', handles: ['h0'], visibility: [0] }]);
  });

  it('sends more, ten to a ChangeMessageVisibilityBatch, each at visibility 0', async () => {
    const q = aQueue();
    const { logger } = logCapture();
    expect(await releaseMessages(q.sqs, 'url', messages(23), logger)).toBe(23);
    expect(q.sent.map((s) => [s.name, s.handles.length])).toEqual([
      ['batch', 10],
      ['batch', 10],
      ['batch', 3],
    ]);
    expect(q.sent.flatMap((s) => s.visibility).every((v) => v === 0)).toBe(true);
    expect(q.sent.flatMap((s) => s.handles)).toEqual(messages(23).map((m) => m.ReceiptHandle));
  });

  it('logs the entries a batch reports failed and counts the rest', async () => {
    const q = aQueue(['h1']);
    const { lines, logger } = logCapture();
    expect(await releaseMessages(q.sqs, 'url', messages(3), logger)).toBe(2);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        messageId: 'm1',
        code: 'ReceiptHandleIsInvalid',
        msg: 'stopping: could not hand a message back; SQS redelivers it after the visibility timeout',
      }),
    ]);
  });

  it('tries a retryable failure once more', async () => {
    const q = aQueue([], [sqsError('InternalError', 500)]);
    const { lines, logger } = logCapture();
    expect(await releaseMessages(q.sqs, 'url', messages(2), logger)).toBe(2);
    expect(q.sent).toHaveLength(2);
    expect(lines).toEqual([]);
  });

  it('does not retry a terminal failure, logs it and resolves: the message reappears at its timeout', async () => {
    const q = aQueue([], [sqsError('AccessDenied', 403)]);
    const { lines, logger } = logCapture();
    expect(await releaseMessages(q.sqs, 'url', messages(1), logger)).toBe(0);
    expect(q.sent).toHaveLength(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        messageIds: ['m0'],
        msg: 'stopping: could not hand a message back; SQS redelivers it after the visibility timeout',
      }),
    ]);
  });
});
