import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDepth, QueueWork } from '../ports/worker-capacity.ts';

const attributes = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

function count(value: string | undefined, name: string): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) {
    throw new Error(`SQS GetQueueAttributes answered no usable ${name} (got ${String(value)})`);
  }
  return n;
}

/**
 * The job queue's approximate counts from GetQueueAttributes: read from SQS at the moment of the
 * call, unlike its CloudWatch metrics, which arrive a minute or more later.
 */
export class SqsQueueDepth implements QueueDepth {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.#sqs = sqs;
    this.#queueUrl = queueUrl;
  }

  async work(): Promise<QueueWork> {
    const answer = await this.#sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.#queueUrl, AttributeNames: [...attributes] }),
    );
    const a = answer.Attributes ?? {};
    return {
      visible: count(a.ApproximateNumberOfMessages, attributes[0]),
      inFlight: count(a.ApproximateNumberOfMessagesNotVisible, attributes[1]),
      delayed: count(a.ApproximateNumberOfMessagesDelayed, attributes[2]),
    };
  }
}
