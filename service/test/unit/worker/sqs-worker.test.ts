import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import type { HandlerOutcome, MessageContext } from '../../../src/worker/handler-outcome.ts';
import { ReceiveBackoff } from '../../../src/worker/receive-backoff.ts';
import type { ScaleInGuard } from '../../../src/worker/scale-in-guard.ts';
import { createSqsWorker, type SqsWorkerOptions } from '../../../src/worker/sqs-worker.ts';

interface Call {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

/** SQS as sqs-consumer sees it: receives answered by the test, every call recorded. */
class ScriptedSqs {
  readonly calls: Call[] = [];
  readonly pending: ((output: unknown) => void)[] = [];
  receive: () => Promise<unknown> = () =>
    new Promise((resolve) => {
      this.pending.push(resolve);
    });
  /** Answers other calls (default: at once, empty). */
  answer: (name: string) => Promise<unknown> = async () => ({});

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
    this.calls.push({ name: command.constructor.name, input: command.input });
    if (command.constructor.name === 'ReceiveMessageCommand') return this.receive();
    return this.answer(command.constructor.name);
  }

  named(name: string): Call[] {
    return this.calls.filter((c) => c.name === name);
  }
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

function aWorker(
  sqs: ScriptedSqs,
  handle: (ctx: MessageContext) => Promise<HandlerOutcome>,
  concurrency = 1,
  backoff = new ReceiveBackoff({ initialMs: 5, maxMs: 40 }),
  extra: Partial<SqsWorkerOptions> = {},
) {
  const { lines, logger } = logCapture();
  const worker = createSqsWorker({
    sqs: sqs as unknown as SQSClient,
    queueUrl: 'http://sqs.local/123456789012/jobs',
    deadLetterQueueUrl: 'http://sqs.local/123456789012/jobs-dlq',
    concurrency,
    visibilityTimeoutSeconds: 60,
    receiveWaitSeconds: 20,
    logger,
    handle,
    backoff,
    ...extra,
  });
  return { worker, lines };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await sleep(5);
  }
}

describe('stopping the worker', () => {
  it('lets the long poll in flight finish and hands back what it brings, at once', async () => {
    const sqs = new ScriptedSqs();
    const handled: string[] = [];
    const { worker, lines } = aWorker(sqs, async (ctx) => {
      handled.push(ctx.messageId);
      throw new Error('not expected');
    });
    worker.start();
    await until(() => sqs.pending.length === 1, 'a long poll in flight');
    const stopped = worker.stop(5000);
    // The message SQS was already handing over arrives after stop() began.
    sqs.pending[0]?.({
      Messages: [{ MessageId: 'm-1', ReceiptHandle: 'rh-1', Body: '{}', Attributes: {} }],
    });
    await stopped;
    expect(handled).toEqual([]);
    expect(sqs.named('ChangeMessageVisibilityCommand').map((c) => c.input)).toEqual([
      expect.objectContaining({ ReceiptHandle: 'rh-1', VisibilityTimeout: 0 }),
    ]);
    expect(sqs.named('DeleteMessageCommand')).toEqual([]);
    // No new long poll starts once stopping.
    expect(sqs.named('ReceiveMessageCommand')).toHaveLength(1);
    expect(lines.map((l) => l.msg)).toContain('stopping: message handed back to the queue');
  });
});

/** A message as SQS hands it over. */
const aMessage = (n: number) => ({
  MessageId: `m-${n}`,
  ReceiptHandle: `rh-${n}`,
  Body: '{}',
  Attributes: { ApproximateReceiveCount: '1' },
});

/** A handler each call of which waits until the test ends it with an outcome. */
function heldHandlers() {
  const ends: ((outcome: HandlerOutcome) => void)[] = [];
  const started: string[] = [];
  return {
    ends,
    started,
    handle: (ctx: MessageContext) =>
      new Promise<HandlerOutcome>((resolve) => {
        started.push(ctx.messageId);
        ends.push(resolve);
      }),
  };
}

const visibilityChanges = (sqs: ScriptedSqs) =>
  sqs
    .named('ChangeMessageVisibilityCommand')
    .map((c) => [c.input.ReceiptHandle, c.input.VisibilityTimeout]);

describe('stopping the worker with messages not finished', () => {
  it('hands back, when the grace ends, the messages whose handlers still run, in one batch; applies nothing of theirs later', async () => {
    const sqs = new ScriptedSqs();
    const held = heldHandlers();
    const { worker, lines } = aWorker(sqs, held.handle, 3);
    worker.start();
    await until(() => sqs.pending.length === 3, 'three long polls');
    for (const [i, deliver] of sqs.pending.splice(0).entries())
      deliver({ Messages: [aMessage(i)] });
    await until(() => held.started.length === 3, 'three handlers running');

    await worker.stop(50);
    const batches = sqs.named('ChangeMessageVisibilityBatchCommand');
    expect(batches).toHaveLength(1);
    expect(batches[0]?.input.Entries).toEqual(
      expect.arrayContaining(
        ['rh-0', 'rh-1', 'rh-2'].map((rh) =>
          expect.objectContaining({ ReceiptHandle: rh, VisibilityTimeout: 0 }),
        ),
      ),
    );
    expect(lines.map((l) => l.msg)).toContain(
      'stopping: the grace is over; unfinished messages handed back to the queue',
    );
    // The handlers end after all: another worker may hold the messages now, nothing is applied.
    held.ends[0]?.({ kind: 'ack' });
    held.ends[1]?.({ kind: 'later', delaySeconds: 30, why: 'test' });
    held.ends[2]?.({ kind: 'dead-letter', reason: 'test' });
    await sleep(30);
    expect(sqs.named('DeleteMessageCommand')).toEqual([]);
    expect(sqs.named('DeleteMessageBatchCommand')).toEqual([]);
    expect(sqs.named('SendMessageCommand')).toEqual([]);
    expect(visibilityChanges(sqs)).toEqual([]);
  });

  it('never hands back a message whose outcome is being applied', async () => {
    const sqs = new ScriptedSqs();
    let deleted: ((v: unknown) => void) | undefined;
    sqs.answer = async (name) =>
      name === 'DeleteMessageCommand'
        ? new Promise((resolve) => {
            deleted = resolve;
          })
        : {};
    const { worker } = aWorker(sqs, async () => ({ kind: 'ack' }));
    worker.start();
    await until(() => sqs.pending.length === 1, 'a long poll');
    sqs.pending[0]?.({ Messages: [aMessage(1)] });
    await until(() => deleted !== undefined, 'the delete in flight');

    await worker.stop(50);
    expect(visibilityChanges(sqs)).toEqual([]);
    expect(sqs.named('ChangeMessageVisibilityBatchCommand')).toEqual([]);
    deleted?.({});
  });

  it('does not start a job whose message came while the task was being protected: hands it back', async () => {
    const sqs = new ScriptedSqs();
    let protect: (() => void) | undefined;
    const guard: ScaleInGuard = {
      enter: () =>
        new Promise<void>((resolve) => {
          protect = resolve;
        }),
      leave: () => {},
      close: () => {},
    };
    const held = heldHandlers();
    const { worker } = aWorker(sqs, held.handle, 1, undefined, { guard });
    worker.start();
    await until(() => sqs.pending.length === 1, 'a long poll');
    sqs.pending[0]?.({ Messages: [aMessage(1)] });
    await until(() => protect !== undefined, 'the protection asked for');
    const stopped = worker.stop(5000);
    protect?.();
    await stopped;
    expect(held.started).toEqual([]);
    expect(visibilityChanges(sqs)).toEqual([['rh-1', 0]]);
  });

  it('hands back at once a job that says it waits for its command while stopping, not after its delay', async () => {
    const sqs = new ScriptedSqs();
    const held = heldHandlers();
    const watch = {
      lookIntervalMs: 5000,
      recordCheckMs: 15_000,
      look: async () => ({ ended: false, progress: '0/0' }),
      lookEnded: async () => ({ ended: false, progress: '0/0' }),
      needsAttention: async () => false,
    };
    const { worker } = aWorker(sqs, held.handle, 1, undefined, { watch });
    worker.start();
    await until(() => sqs.pending.length === 1, 'a long poll');
    sqs.pending[0]?.({ Messages: [aMessage(1)] });
    await until(() => held.started.length === 1, 'the handler running');
    const stopped = worker.stop(5000);
    // The poll step's delay (30 s) is the spacing of a worker without a watcher.
    held.ends[0]?.({
      kind: 'later',
      delaySeconds: 30,
      why: 'command running',
      watch: {
        commandId: 'c-1',
        jobId: 'job-1',
        deadline: Date.now() + 3_600_000,
        firstLookAt: Date.now() + 5000,
        sentAt: Date.now(),
      },
    });
    await stopped;
    expect(visibilityChanges(sqs)).toEqual([['rh-1', 0]]);
    expect(worker.watching).toBe(0);
  });
});

describe('receiving while SQS is unreachable', () => {
  it('backs off and logs one line per failed round, not one per consumer and attempt', async () => {
    // The test makes the rounds: the four consumers' receives fail together, then the backoff's
    // clock moves past the pause. A busy machine cannot spread one round over two pauses.
    const sqs = new ScriptedSqs();
    const inFlight: ((error: Error) => void)[] = [];
    sqs.receive = () =>
      new Promise((_resolve, reject) => {
        inFlight.push(reject);
      });
    const refused = () =>
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), {
        name: 'Error',
        code: 'ECONNREFUSED',
      });
    let now = 0;
    const backoff = new ReceiveBackoff({ initialMs: 5, maxMs: 40, now: () => now });
    const { worker, lines } = aWorker(
      sqs,
      async () => {
        throw new Error('never');
      },
      4,
      backoff,
    );
    const errors = () => lines.filter((l) => l.level === 'error');
    worker.start();
    for (let round = 1; round <= 3; round++) {
      // Every consumer has handled the last failure and waits in a new receive.
      await until(() => inFlight.length === 4, `round ${round}: four receives in flight`);
      now += 1000;
      for (const reject of inFlight.splice(0)) reject(refused());
      await until(() => errors().length >= round, `round ${round}: a line`);
    }
    await until(() => inFlight.length === 4, 'four receives in flight after three rounds');
    const stopped = worker.stop(1000);
    for (const reject of inFlight.splice(0)) reject(refused()); // within the pause: no line
    await stopped;

    expect(sqs.named('ReceiveMessageCommand')).toHaveLength(16);
    expect(errors().map((l) => l.msg)).toEqual([
      expect.stringMatching(/receiving from SQS failed; trying again in/),
      expect.stringMatching(/receiving from SQS failed; trying again in/),
      expect.stringMatching(/receiving from SQS failed; trying again in/),
    ]);
  });
});

describe('scale-in protection', () => {
  it('starts a message only once the guard has protected the task, and lets go after it is done', async () => {
    const sqs = new ScriptedSqs();
    const events: string[] = [];
    let protect: (() => void) | undefined;
    const guard: ScaleInGuard = {
      enter: () => {
        events.push('enter');
        return new Promise<void>((resolve) => {
          protect = () => {
            events.push('protected');
            resolve();
          };
        });
      },
      leave: () => {
        events.push(`leave after ${sqs.named('DeleteMessageCommand').length} delete`);
      },
      close: () => {
        events.push('close');
      },
    };
    const { logger } = logCapture();
    const worker = createSqsWorker({
      sqs: sqs as unknown as SQSClient,
      queueUrl: 'http://sqs.local/123456789012/jobs',
      deadLetterQueueUrl: 'http://sqs.local/123456789012/jobs-dlq',
      concurrency: 1,
      visibilityTimeoutSeconds: 60,
      receiveWaitSeconds: 20,
      logger,
      handle: async () => {
        events.push('handle');
        return { kind: 'ack' };
      },
      guard,
    });
    worker.start();
    await until(() => sqs.pending.length === 1, 'a long poll in flight');
    sqs.pending[0]?.({
      Messages: [{ MessageId: 'm-1', ReceiptHandle: 'rh-1', Body: '{}', Attributes: {} }],
    });
    await until(() => events.includes('enter'), 'the guard asked');
    await sleep(20);
    expect(events).toEqual(['enter']); // the job waits for the protection
    protect?.();
    await until(() => events.some((e) => e.startsWith('leave')), 'the message done');
    await until(() => sqs.pending.length === 2, 'the next long poll');
    const stopped = worker.stop(1000);
    sqs.pending[1]?.({ Messages: [] });
    await stopped;
    expect(events).toEqual(['enter', 'protected', 'handle', 'leave after 1 delete', 'close']);
  });
});
