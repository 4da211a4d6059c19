import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import {
  type DeploymentOutcome,
  metrics,
  metricsNamespace,
} from '../../service/src/metrics/definitions.ts';

/**
 * The worker's Embedded Metric Format metrics the alarms read, from the service's own metric
 * definitions (service/src/metrics/definitions.ts): `Deployments` by `Outcome`, and the smallest
 * days to expiry of the daily check.
 */
export const deploymentMetrics = {
  namespace: metricsNamespace,
  deployments: metrics.deployments.cloudWatch.name,
  outcomeDimension: metrics.deployments.cloudWatch.dimensions[0],
  installedMinDaysToExpiry: metrics.minDaysToExpiry.cloudWatch.name,
} as const;

/** The count of deployments that ended `outcome`, summed over `period`. */
export function deploymentsEnded(outcome: DeploymentOutcome, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: deploymentMetrics.namespace,
    metricName: deploymentMetrics.deployments,
    dimensionsMap: { [deploymentMetrics.outcomeDimension]: outcome },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

/**
 * Every alarm of the stack is named `<stack name>-<id>`, so that the topic and key policies can
 * let CloudWatch publish for these alarms only (aws:SourceArn), not for any alarm of the account.
 */
export function alarmName(scope: IConstruct, id: string): string {
  return `${Stack.of(scope).stackName}-${id}`;
}

/** The ARNs of this stack's alarms, as an aws:SourceArn pattern. */
export function alarmArnPattern(scope: IConstruct): string {
  return Stack.of(scope).formatArn({
    service: 'cloudwatch',
    resource: 'alarm',
    resourceName: alarmName(scope, '*'),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** Conditions binding a grant to CloudWatch alarms of this stack (confused deputy). */
export function fromThisStacksAlarms(scope: IConstruct): iam.Conditions {
  return {
    StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
    ArnLike: { 'aws:SourceArn': alarmArnPattern(scope) },
  };
}

export interface AlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly key: kms.IKey;
  readonly oldestMessageSeconds: number;
  /** The expiry alarm fires when an installed copy expires in fewer days than this. */
  readonly expiryDays: number;
  readonly email?: string;
}

/**
 * The failure notifications: one encrypted topic and the alarms that publish to it (and tell
 * it again when they recover). The worker's expiry check publishes its notifications there too
 * (the task role's PublishNotifications grant). Missing data is "not breaching" for the counts: no deployments
 * means no failures. docs/deploy.md (Alarms) says what fires each one and what to do.
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
    // enforceSSL gives the topic a policy, which replaces SNS's default one: without this
    // statement CloudWatch could not publish, and no alarm would ever reach anyone.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisStackPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisStacksAlarms(this),
      }),
    );
    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }

    this.add('DeadLetterQueueNotEmpty', {
      alarmDescription:
        'A job, an undeliverable event or a failed expiry check is in the dead-letter queue: inspect and redrive it (docs/operations.md).',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.addOutcome(
      'DeploymentsFailed',
      'Failed',
      'A certificate deployment ended Failed: no server installed it, or the certificate could not be exported.',
    );
    this.addOutcome(
      'DeploymentsTimedOut',
      'TimedOut',
      'A certificate deployment timed out waiting for its servers.',
    );
    this.addOutcome(
      'DeploymentsPartiallyFailed',
      'PartiallyFailed',
      'A certificate deployment installed on some servers and failed on others: those servers keep the old certificate.',
    );
    this.addOutcome(
      'DeploymentsNoTargets',
      'NoTargets',
      'A certificate deployment found no managed node with its target tag: nothing was installed.',
    );
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
    this.add('InstalledCertificateExpiring', {
      alarmDescription: `A managed certificate's installed copy expires in fewer than ${props.expiryDays} days (daily expiry check): its renewal was not installed.`,
      metric: new cloudwatch.Metric({
        namespace: deploymentMetrics.namespace,
        metricName: deploymentMetrics.installedMinDaysToExpiry,
        statistic: cloudwatch.Stats.MINIMUM,
        period: Duration.hours(1),
      }),
      threshold: props.expiryDays,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // The check runs once a day: between two checks there is no data, and the alarm keeps
      // what the last check said (no OK at every hour without data, no ALARM again each day).
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
  }

  /** One deployment outcome counted by the worker: alarm on the first one in five minutes. */
  private addOutcome(id: string, outcome: DeploymentOutcome, alarmDescription: string): void {
    this.add(id, {
      alarmDescription,
      metric: deploymentsEnded(outcome, Duration.minutes(5)),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
  }

  private add(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: alarmName(this, id),
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
