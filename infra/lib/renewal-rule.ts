import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  commandStatusEventPattern,
  expirationEventPattern,
  instanceRunningEventPattern,
  renewalEventPattern,
} from './resource-definitions.ts';

type Pattern = {
  source: readonly string[];
  'detail-type': readonly string[];
  detail?: Record<string, readonly string[]>;
};

/**
 * An EventBridge rule sending matching events straight to the job queue (no Lambda in between).
 * The target's own dead-letter queue is the job DLQ: an event EventBridge could not deliver
 * after its retries lands where the DLQ alarm sees it, instead of vanishing. The SqsQueue
 * target adds the queue policy statement for events.amazonaws.com, conditioned on
 * aws:SourceArn = this rule.
 */
function queueRule(
  scope: Construct,
  id: string,
  description: string,
  pattern: Pattern,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
): events.Rule {
  return new events.Rule(scope, id, {
    description,
    eventPattern: {
      source: [...pattern.source],
      detailType: [...pattern['detail-type']],
      ...(pattern.detail === undefined
        ? {}
        : {
            detail: Object.fromEntries(Object.entries(pattern.detail).map(([k, v]) => [k, [...v]])),
          }),
    },
    targets: [new targets.SqsQueue(queue, { deadLetterQueue })],
  });
}

/**
 * The rules sending events straight to the job queue, by construct id (the ids name the
 * resources already deployed: keep them):
 * - ACM renewals (`ACM Certificate Available` / `RENEWAL`);
 * - EC2 instances entering `running`: the worker installs the certificates mapped to the
 *   instance's tags on it (a server launched after a deployment, or started again);
 * - ACM's daily `Approaching Expiration`: the worker deploys again every mapping that does not
 *   hold the certificate's current serial (a renewal event that was lost);
 * - Run Command's terminal status changes of the install document: the worker finishes the job
 *   of a command that ended at once (it looks every 5 s otherwise).
 */
const eventRules = (
  documentName: string,
): readonly { id: string; description: string; pattern: Pattern }[] => [
  {
    id: 'RenewalRule',
    description: 'ACM certificate renewals to the acm-cert-export job queue',
    pattern: renewalEventPattern,
  },
  {
    id: 'InstanceRunningRule',
    description: 'EC2 instances entering running to the acm-cert-export job queue',
    pattern: instanceRunningEventPattern,
  },
  {
    id: 'ExpirationRule',
    description: 'ACM certificates approaching expiration to the acm-cert-export job queue',
    pattern: expirationEventPattern,
  },
  {
    id: 'CommandStatusRule',
    description:
      'Run Command status changes of the install document to the acm-cert-export job queue',
    pattern: commandStatusEventPattern(documentName),
  },
];

/** Every event rule of the stack, each delivering to the job queue (and its DLQ). */
export function createEventRules(
  scope: Construct,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
  documentName: string,
): events.Rule[] {
  return eventRules(documentName).map(({ id, description, pattern }) =>
    queueRule(scope, id, description, pattern, queue, deadLetterQueue),
  );
}
