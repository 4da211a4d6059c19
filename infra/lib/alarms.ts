import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The worker's Embedded Metric Format metrics: namespace and names, no dimensions. */
export const deploymentMetrics = {
  namespace: 'AcmCertExport',
  failed: 'DeploymentsFailed',
  timedOut: 'DeploymentsTimedOut',
} as const;

export interface AlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly key: kms.IKey;
  readonly oldestMessageSeconds: number;
  readonly email?: string;
}

/**
 * The failure notifications: one encrypted topic and the alarms that publish to it (and tell
 * it again when they recover). Missing data is "not breaching": no deployments means no failures.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'acm-cert-export failures',
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }

    this.add('DeadLetterQueueNotEmpty', {
      alarmDescription:
        'A job or an undeliverable renewal event is in the dead-letter queue: inspect and redrive it (docs/operations.md).',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.add('DeploymentsFailed', {
      alarmDescription: 'A certificate deployment ended Failed on at least one server.',
      metric: deploymentMetric(deploymentMetrics.failed),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.add('DeploymentsTimedOut', {
      alarmDescription: 'A certificate deployment timed out waiting for its servers.',
      metric: deploymentMetric(deploymentMetrics.timedOut),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.add('OldestJobWaiting', {
      alarmDescription:
        'A job has waited in the queue without being picked up: the worker is down or cannot keep up.',
      metric: props.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: props.oldestMessageSeconds,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }

  private add(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

function deploymentMetric(metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: deploymentMetrics.namespace,
    metricName,
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
  });
}
