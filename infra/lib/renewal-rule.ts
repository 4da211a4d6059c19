import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { instanceRunningEventPattern, renewalEventPattern } from './resource-definitions.ts';

/**
 * EventBridge rule sending ACM renewals straight to the job queue (no Lambda in between).
 * The target's own dead-letter queue is the job DLQ: an event EventBridge could not deliver
 * after its retries lands where the DLQ alarm sees it, instead of vanishing.
 * The SqsQueue target adds the queue policy statement for events.amazonaws.com, conditioned
 * on aws:SourceArn = this rule.
 */
export function createRenewalRule(
  scope: Construct,
  id: string,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
): events.Rule {
  return new events.Rule(scope, id, {
    description: 'ACM certificate renewals to the acm-cert-export job queue',
    eventPattern: {
      source: [...renewalEventPattern.source],
      detailType: [...renewalEventPattern['detail-type']],
      detail: { Action: [...renewalEventPattern.detail.Action] },
    },
    targets: [new targets.SqsQueue(queue, { deadLetterQueue })],
  });
}

/**
 * EventBridge rule sending "EC2 instance entered running" straight to the job queue: the worker
 * installs the certificates mapped to the instance's tags on it (a server launched after a
 * deployment, or started again). Same delivery and DLQ as the renewal rule.
 */
export function createInstanceRunningRule(
  scope: Construct,
  id: string,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
): events.Rule {
  return new events.Rule(scope, id, {
    description: 'EC2 instances entering running to the acm-cert-export job queue',
    eventPattern: {
      source: [...instanceRunningEventPattern.source],
      detailType: [...instanceRunningEventPattern['detail-type']],
      detail: { state: [...instanceRunningEventPattern.detail.state] },
    },
    targets: [new targets.SqsQueue(queue, { deadLetterQueue })],
  });
}
