import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';
import { jobQueue } from './resource-definitions.ts';
import { RetainedQueue } from './retained-queue.ts';

export interface JobQueuesProps {
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** Both queues exist already (kept when a stack of this app was deleted): import them. */
  readonly existing?: boolean;
}

/**
 * The job queue (deploy requests from the API, renewal events from EventBridge) and its DLQ.
 *
 * Encryption is SSE-SQS rather than a customer KMS key on purpose: EventBridge delivers to an
 * SSE-SQS queue without any key policy, while a KMS-encrypted queue needs a key policy granting
 * events.amazonaws.com (a missing grant drops renewals silently). The messages carry ARNs, names
 * and tags, never a passphrase (those live in Secrets Manager), so AWS-owned keys suffice.
 */
export class JobQueues extends Construct {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: JobQueuesProps) {
    super(scope, id);
    if (props.existing === true) {
      this.deadLetterQueue = new RetainedQueue(this, 'DeadLetterQueue', props.deadLetterQueueName);
      this.queue = new RetainedQueue(this, 'Queue', props.queueName);
      return;
    }
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: props.deadLetterQueueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(jobQueue.retentionSeconds),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      deadLetterQueue,
      'SQS3',
      'This is the dead-letter queue of the job queue; an operator inspects and redrives its messages (docs/operations.md), a DLQ of the DLQ would only hide them.',
    );
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(jobQueue.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(jobQueue.retentionSeconds),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: jobQueue.maxReceiveCount },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.deadLetterQueue = deadLetterQueue;
  }
}
