import {
  ChangeMessageVisibilityCommand,
  type Message,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { Consumer } from 'sqs-consumer';
import { withRetry } from '../adapters/aws-errors.ts';
import type { Metrics } from '../ports/metrics.ts';
import { type CommandWatcher, createCommandWatcher, type Look } from './command-watcher.ts';
import type { CommandWait, HandlerOutcome, MessageContext } from './handler-outcome.ts';
import { batchingDeleter } from './message-deleter.ts';
import { releaseMessages } from './message-releaser.ts';
import { failureBackoffSeconds } from './outcome-policy.ts';
import { ReceiveBackoff } from './receive-backoff.ts';
import type { ScaleInGuard } from './scale-in-guard.ts';

export interface SqsWorkerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** Messages handled at once (one sqs-consumer, batchSize 1, per slot). */
  readonly concurrency: number;
  readonly visibilityTimeoutSeconds: number;
  readonly receiveWaitSeconds: number;
  readonly logger: Logger;
  readonly handle: (ctx: MessageContext) => Promise<HandlerOutcome>;
  /** The pause after failed receives, shared by the consumers (default: 1 s doubling to 30 s). */
  readonly backoff?: ReceiveBackoff;
  /** Keeps the task from being scaled in while messages are in hand (on ECS only). */
  readonly guard?: ScaleInGuard;
  /**
   * Follows running commands without holding a consumer (worker/command-watcher.ts): a job
   * waiting for its command is kept in flight by the watcher and handled again when it ended.
   * Without it, such a job's message is handed back to SQS with a delay.
   */
  readonly watch?: WatchOptions;
  /** Now, epoch ms (the watcher's clock). */
  readonly now?: () => number;
  /** Told each message's queue lag (SentTimestamp to pickup) at its first receive. */
  readonly metrics?: Pick<Metrics, 'messagePickedUp'>;
}

export interface WatchOptions {
  readonly lookIntervalMs: number;
  readonly recordCheckMs: number;
  /** One status look. */
  look(commandId: string): Promise<Look>;
  /** The look after a status-change event saying the command ended as `status`. */
  lookEnded(commandId: string, status: string): Promise<Look>;
  /** True when the job's record asks for it to run now (a cancel request). */
  needsAttention(jobId: string): Promise<boolean>;
}

export interface SqsWorker {
  start(): void;
  /**
   * Run Command's status-change event (the command ended as `status`): its job goes on now.
   * Resolves once that is done (see CommandWatcher.wake); undefined when not followed here.
   */
  wake(commandId: string, status: string): Promise<void> | undefined;
  /** Jobs whose running command this worker follows. */
  readonly watching: number;
  /**
   * Stops receiving: ends inline waits, hands back at once (visibility 0) the jobs waiting for
   * their commands, lets the long polls in flight finish and hands back any message they bring,
   * waits for in-flight handlers; all within `graceMs`. Then every message whose handler has not
   * returned is handed back too (its job resumes from its record elsewhere; one whose outcome is
   * being applied — deleted, dead-lettered — is left to finish): the caller exits next.
   */
  stop(graceMs: number): Promise<void>;
}

/** Where a message this worker holds is: its outcome being applied is never handed back. */
type Holding = 'starting' | 'handling' | 'applying';

/** After the grace, the hand-back of what is left gets this long before the process goes on. */
const releaseBoundMs = 3000;

/** Thrown before a receive once the worker is stopping: no new long poll may start. */
class Stopping extends Error {
  override readonly name = 'Stopping';
}

/**
 * The glue between SQS and the router. sqs-consumer receives (long polling, heartbeats while a
 * handler runs); the outcome decides: `ack` deletes, `later` sets the message's visibility to the
 * delay (the Step Functions wait of the original design), `dead-letter` copies the body to the
 * DLQ with the reason as message attributes, then deletes it.
 */
export function createSqsWorker(options: SqsWorkerOptions): SqsWorker {
  const { sqs, logger } = options;
  const stopping = new AbortController();
  const backoff = options.backoff ?? new ReceiveBackoff();
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const now = options.now ?? Date.now;
  /** Until when each watched message is surely invisible (sqs-consumer's heartbeat, our extensions). */
  const visibleUntil = new WeakMap<Message, number>();
  const deleter = batchingDeleter(sqs, options.queueUrl);
  /** The messages in a consumer's handler or resumed from the watcher, and where each is. */
  const holding = new Map<Message, Holding>();
  /** Handed back after the grace: another worker may hold them now; nothing more is applied. */
  const released = new WeakSet<Message>();
  const watcher: CommandWatcher<Message> | undefined =
    options.watch === undefined ? undefined : createWatcher(options.watch);

  function createWatcher(watch: WatchOptions): CommandWatcher<Message> {
    return createCommandWatcher<Message>({
      now,
      logger,
      lookIntervalMs: watch.lookIntervalMs,
      recordCheckMs: watch.recordCheckMs,
      visibilitySeconds: options.visibilityTimeoutSeconds,
      parallel: options.concurrency,
      look: (commandId) => watch.look(commandId),
      lookEnded: (commandId, status) => watch.lookEnded(commandId, status),
      needsAttention: (jobId) => watch.needsAttention(jobId),
      resume: resumeWatched,
      extend: async (message, seconds) => {
        await changeVisibility(message, seconds);
        visibleUntil.set(message, now() + seconds * 1000);
      },
      handBack: async (messages) => {
        try {
          await releaseMessages(sqs, options.queueUrl, messages, logger);
        } finally {
          for (const _ of messages) options.guard?.leave();
        }
      },
    });
  }

  /** Hands a job waiting for its command to the watcher; the consumer is free again. */
  async function watchCommand(message: Message, wait: CommandWait): Promise<void> {
    await options.guard?.enter();
    // sqs-consumer's heartbeat keeps a message invisible for the visibility timeout, renewed
    // every third of it: at least two thirds of it are left when the handler returns.
    const atLeast = now() + Math.floor((options.visibilityTimeoutSeconds * 2000) / 3) - 1000;
    (watcher as CommandWatcher<Message>).add({
      ...wait,
      message,
      visibleUntil: visibleUntil.get(message) ?? atLeast,
    });
  }

  /** The watcher resumes a job: its message is handled again here, outside the consumers. */
  async function resumeWatched(message: Message, handled: () => void): Promise<void> {
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    const messageId = message.MessageId ?? 'unknown';
    holding.set(message, 'handling');
    try {
      const outcome = await options.handle({
        messageId,
        receiveCount,
        body: message.Body ?? '',
        signal: stopping.signal,
      });
      handled();
      if (released.has(message)) return;
      holding.set(message, 'applying');
      await apply(message, outcome);
    } catch (error) {
      logger.error({ err: error, messageId, receiveCount }, 'resumed message handling failed');
      if (released.has(message)) return;
      try {
        await changeVisibility(message, failureBackoffSeconds(receiveCount));
      } catch {
        // visibility stays as it is: SQS redelivers after the timeout
      }
    } finally {
      holding.delete(message);
      options.guard?.leave();
    }
  }

  async function changeVisibility(message: Message, seconds: number): Promise<void> {
    await withRetry(() =>
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: options.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: seconds,
        }),
      ),
    );
  }

  async function apply(message: Message, outcome: HandlerOutcome): Promise<Message | undefined> {
    switch (outcome.kind) {
      case 'ack':
        await remove(message);
        return message;
      case 'later':
        if (outcome.watch !== undefined && watcher !== undefined && !stopping.signal.aborted) {
          await watchCommand(message, outcome.watch);
          return undefined;
        }
        // Waiting for its command while the process stops: the delay was the look's spacing,
        // not a wait the job needs; another worker follows the command from now.
        if (outcome.watch !== undefined && stopping.signal.aborted) return handBack(message);
        await withRetry(() =>
          sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: options.queueUrl,
              ReceiptHandle: message.ReceiptHandle,
              VisibilityTimeout: outcome.delaySeconds,
            }),
          ),
        );
        return undefined;
      case 'dead-letter':
        await withRetry(() =>
          sqs.send(
            new SendMessageCommand({
              QueueUrl: options.deadLetterQueueUrl,
              MessageBody: message.Body ?? '',
              MessageAttributes: {
                reason: { DataType: 'String', StringValue: outcome.reason.slice(0, 1000) },
                originalMessageId: {
                  DataType: 'String',
                  StringValue: message.MessageId ?? 'unknown',
                },
                deadLetteredBy: { DataType: 'String', StringValue: 'acm-cert-export worker' },
              },
            }),
          ),
        );
        await remove(message);
        return message;
    }
  }

  // Deleted here, not by sqs-consumer: its requests share the abort signal that stop() fires to
  // cut the long poll short, and an acknowledged message must not be left behind by a shutdown.
  async function remove(message: Message): Promise<void> {
    await deleter.delete(message.ReceiptHandle ?? '');
  }

  /**
   * A message a long poll brought after stop() began: nobody will handle it here, so it goes back
   * to the queue now rather than after the visibility timeout (another worker starts it at once).
   */
  async function handBack(message: Message): Promise<undefined> {
    try {
      await withRetry(
        () =>
          sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: options.queueUrl,
              ReceiptHandle: message.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          ),
        { retries: 1 },
      );
      logger.info({ messageId: message.MessageId }, 'stopping: message handed back to the queue');
    } catch (error) {
      logger.warn(
        { err: error, messageId: message.MessageId },
        'stopping: could not hand a message back; SQS redelivers it after the visibility timeout',
      );
    }
    return undefined;
  }

  async function handleMessage(message: Message): Promise<Message | undefined> {
    if (stopping.signal.aborted) return handBack(message);
    inFlight++;
    holding.set(message, 'starting');
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    const messageId = message.MessageId ?? 'unknown';
    // Lag is the first receive's: a later one waited out a delay the worker chose.
    const sent = Number(message.Attributes?.SentTimestamp);
    if (receiveCount === 1 && Number.isFinite(sent) && sent > 0) {
      options.metrics?.messagePickedUp((now() - sent) / 1000);
    }
    try {
      // Protected before the job's first step: a scale-in now would cut the step short.
      await options.guard?.enter();
      // Stopped while the protection was asked for: the job is not started here.
      if (stopping.signal.aborted) {
        return released.has(message) ? undefined : await handBack(message);
      }
      holding.set(message, 'handling');
      const outcome = await options.handle({
        messageId,
        receiveCount,
        body: message.Body ?? '',
        signal: stopping.signal,
      });
      if (outcome.kind !== 'ack') logger.debug({ messageId, outcome }, 'message handled');
      // Handed back at the end of the grace: another worker has the job (from its record).
      if (released.has(message)) return undefined;
      holding.set(message, 'applying');
      return await apply(message, outcome);
    } catch (error) {
      // A bug or an outage the handler could not record: back off on the receive count and let
      // SQS redeliver; the queue's maxReceiveCount is the backstop.
      logger.error({ err: error, messageId, receiveCount }, 'message handling failed');
      if (released.has(message)) return undefined;
      try {
        await apply(message, {
          kind: 'later',
          delaySeconds: failureBackoffSeconds(receiveCount),
          why: 'handler error',
        });
      } catch {
        // visibility stays as it is: SQS redelivers after the timeout
      }
      return undefined;
    } finally {
      holding.delete(message);
      options.guard?.leave();
      inFlight--;
      if (inFlight === 0) idle?.();
    }
  }

  /**
   * The grace is over: every message held whose handler has not returned goes back to the queue
   * now (within `releaseBoundMs`), not when its visibility timeout ends. Its job is safe to pick
   * up elsewhere from its record at any point of a step, as after a crash; a message whose
   * outcome is being applied is left to that.
   */
  async function releaseUnfinished(): Promise<number> {
    const unfinished = [...holding]
      .filter(([message, where]) => where !== 'applying' && !released.has(message))
      .map(([message]) => message);
    const left = [...unfinished, ...(watcher?.abandon() ?? [])];
    if (left.length === 0) return 0;
    for (const m of left) released.add(m);
    let timer: NodeJS.Timeout | undefined;
    const handedBack = await Promise.race([
      releaseMessages(sqs, options.queueUrl, left, logger),
      new Promise<number>((resolve) => {
        timer = setTimeout(() => resolve(0), releaseBoundMs);
      }),
    ]);
    clearTimeout(timer);
    logger.info(
      { messages: left.length, handedBack },
      'stopping: the grace is over; unfinished messages handed back to the queue',
    );
    return handedBack;
  }

  const consumers = Array.from({ length: options.concurrency }, () =>
    Consumer.create({
      queueUrl: options.queueUrl,
      sqs,
      batchSize: 1,
      waitTimeSeconds: options.receiveWaitSeconds,
      visibilityTimeout: options.visibilityTimeoutSeconds,
      heartbeatInterval: Math.max(1, Math.floor(options.visibilityTimeoutSeconds / 3)),
      messageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      useQueueUrlAsEndpoint: false,
      strictReturn: true,
      shouldDeleteMessages: false,
      // The shared backoff decides how long to wait after a failed receive, not a fixed pause.
      authenticationErrorTimeout: 0,
      preReceiveMessageCallback: async () => {
        await backoff.beforeReceive(stopping.signal);
        if (stopping.signal.aborted) throw new Stopping('the worker is stopping');
      },
      postReceiveMessageCallback: async () => {
        const failed = backoff.succeeded();
        if (failed > 0) logger.info({ failedRounds: failed }, 'receiving from SQS works again');
      },
      handleMessage,
    }),
  );
  for (const c of consumers) {
    c.on('error', (err, message) => {
      if (message !== undefined) {
        logger.warn({ err, messageId: messageIdOf(message) }, 'queue call for a message failed');
        return;
      }
      if (stopping.signal.aborted) return;
      const delay = backoff.failed();
      // One line per failed round (at most a few a minute), not one per consumer and attempt.
      if (delay !== undefined) {
        logger.error(
          { err, failedRounds: backoff.failures, nextTryMs: delay },
          `receiving from SQS failed; trying again in ${Math.round(delay / 1000)} s`,
        );
      }
    });
    c.on('processing_error', (err) => logger.error({ err }, 'message processing failed'));
  }

  return {
    wake(commandId, status) {
      return watcher?.wake(commandId, status);
    },
    get watching() {
      return watcher?.size ?? 0;
    },
    start() {
      for (const c of consumers) c.start();
      watcher?.start();
      logger.info(
        { concurrency: options.concurrency, queueUrl: options.queueUrl },
        'worker started',
      );
    },
    async stop(graceMs: number) {
      stopping.abort();
      // Jobs waiting for their command go back to the queue at once, for another worker.
      const watchersDone = watcher?.stop() ?? Promise.resolve();
      options.guard?.close();
      // No abort: a long poll cut short can lose the message SQS was already handing over (it
      // stays invisible for the whole visibility timeout). Let it finish; handleMessage hands
      // back what it brings.
      for (const c of consumers) c.stop({ abort: false });
      const deadline = Date.now() + graceMs;
      const handlersDone =
        inFlight === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              idle = resolve;
            });
      // Ref'd timers: the process must stay up until the hand-backs are done or the grace ends.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([handlersDone, pollsDone(consumers, deadline), watchersDone]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      const handedBack = await releaseUnfinished();
      const polling = consumers.filter((c) => c.status.isPolling).length;
      logger.info({ inFlight, polling, handedBack }, 'worker stopped');
    },
  };
}

function messageIdOf(message: Message | Message[]): string | undefined {
  return Array.isArray(message) ? message[0]?.MessageId : message.MessageId;
}

/** Resolves once no consumer has a receive (or its hand-back) in flight, or at the deadline. */
async function pollsDone(consumers: readonly Consumer[], deadline: number): Promise<void> {
  while (consumers.some((c) => c.status.isPolling) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
