import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { Consumer } from 'sqs-consumer';
import { withRetry } from '../adapters/aws-errors.ts';
import type { HandlerOutcome, MessageContext } from './handler-outcome.ts';
import { failureBackoffSeconds } from './outcome-policy.ts';

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
}

export interface SqsWorker {
  start(): void;
  /** Stops receiving, ends inline waits, waits for in-flight handlers up to `graceMs`. */
  stop(graceMs: number): Promise<void>;
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
  let inFlight = 0;
  let idle: (() => void) | undefined;

  async function apply(message: Message, outcome: HandlerOutcome): Promise<Message | undefined> {
    switch (outcome.kind) {
      case 'ack':
        await remove(message);
        return message;
      case 'later':
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
    await withRetry(() =>
      sqs.send(
        new DeleteMessageCommand({
          QueueUrl: options.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
        }),
      ),
    );
  }

  async function handleMessage(message: Message): Promise<Message | undefined> {
    inFlight++;
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    const messageId = message.MessageId ?? 'unknown';
    try {
      const outcome = await options.handle({
        messageId,
        receiveCount,
        body: message.Body ?? '',
        signal: stopping.signal,
      });
      if (outcome.kind !== 'ack') logger.debug({ messageId, outcome }, 'message handled');
      return await apply(message, outcome);
    } catch (error) {
      // A bug or an outage the handler could not record: back off on the receive count and let
      // SQS redeliver; the queue's maxReceiveCount is the backstop.
      logger.error({ err: error, messageId, receiveCount }, 'message handling failed');
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
      inFlight--;
      if (inFlight === 0) idle?.();
    }
  }

  const consumers = Array.from({ length: options.concurrency }, () =>
    Consumer.create({
      queueUrl: options.queueUrl,
      sqs,
      batchSize: 1,
      waitTimeSeconds: options.receiveWaitSeconds,
      visibilityTimeout: options.visibilityTimeoutSeconds,
      heartbeatInterval: Math.max(1, Math.floor(options.visibilityTimeoutSeconds / 3)),
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      useQueueUrlAsEndpoint: false,
      strictReturn: true,
      shouldDeleteMessages: false,
      handleMessage,
    }),
  );
  for (const c of consumers) {
    c.on('error', (err) => logger.error({ err }, 'queue receive failed'));
    c.on('processing_error', (err) => logger.error({ err }, 'message processing failed'));
  }

  return {
    start() {
      for (const c of consumers) c.start();
      logger.info(
        { concurrency: options.concurrency, queueUrl: options.queueUrl },
        'worker started',
      );
    },
    async stop(graceMs: number) {
      stopping.abort();
      for (const c of consumers) c.stop({ abort: true });
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => {
            idle = resolve;
          }),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      logger.info({ inFlight }, 'worker stopped');
    },
  };
}
