import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { renewalEventPattern } from './resource-definitions.ts';

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
