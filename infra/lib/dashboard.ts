import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  deploymentOutcomes,
  jobSteps,
  metrics,
  metricsNamespace,
} from '../../service/src/metrics/definitions.ts';
import { deploymentsEnded } from './alarms.ts';

export interface OperationsDashboardProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** The expiry alarm's threshold, drawn on the days-to-expiry graph. */
  readonly expiryDays: number;
}

const fiveMinutes = Duration.minutes(5);

/** One of the service's EMF metrics (names from service/src/metrics/definitions.ts). */
function serviceMetric(
  metric: { readonly name: string },
  statistic: string,
  options: { dimensions?: Record<string, string>; label?: string; period?: Duration } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: metricsNamespace,
    metricName: metric.name,
    statistic,
    period: options.period ?? fiveMinutes,
    ...(options.dimensions === undefined ? {} : { dimensionsMap: options.dimensions }),
    ...(options.label === undefined ? {} : { label: options.label }),
  });
}

/**
 * Every Service/Operation series of an EMF metric, found by a SEARCH expression: the operations
 * are whatever the service called, not a list kept here.
 */
function byOperation(metric: { readonly name: string }, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${metricsNamespace},Service,Operation} MetricName="${metric.name}"', 'Sum', 300)`,
    usingMetrics: {},
    label,
    period: fiveMinutes,
  });
}

/**
 * The operators' CloudWatch dashboard, `<stack name>-operations`, drawn from the service's EMF
 * metrics (the same definitions the service writes them from) and the queues' own metrics:
 * deployments by outcome, job and step durations, queue lag and the oldest waiting job, AWS
 * calls and errors by operation, the days to expiry the expiry alarm reads. docs/operations.md
 * (Metrics) says what each shows.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const cw = {
      job: metrics.jobDuration.cloudWatch,
      step: metrics.stepDuration.cloudWatch,
      lag: metrics.queueLag.cloudWatch,
      calls: metrics.awsCalls.cloudWatch,
      errors: metrics.awsErrors.cloudWatch,
      days: metrics.daysToExpiry.cloudWatch,
      minDays: metrics.minDaysToExpiry.cloudWatch,
    };
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-operations`,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Deployments by outcome (per 5 min)',
        width: 8,
        stacked: true,
        left: deploymentOutcomes.map((outcome) =>
          deploymentsEnded(outcome, fiveMinutes).with({ label: outcome }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Job duration, request to outcome (s)',
        width: 8,
        left: ['p50', 'p90', 'Maximum'].map((stat) => serviceMetric(cw.job, stat, { label: stat })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Queue lag, sent to first pickup (s), and the oldest waiting message',
        width: 8,
        left: ['p50', 'p99', 'Maximum'].map((stat) =>
          serviceMetric(cw.lag, stat, { label: `lag ${stat}` }),
        ),
        right: [
          props.queue.metricApproximateAgeOfOldestMessage({
            period: fiveMinutes,
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'oldest message age',
          }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Step duration p90 by step (s)',
        width: 8,
        left: jobSteps.map((step) =>
          serviceMetric(cw.step, 'p90', { dimensions: { Step: step }, label: step }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'AWS calls by operation (per 5 min)',
        width: 8,
        left: [byOperation(cw.calls, 'calls')],
      }),
      new cloudwatch.GraphWidget({
        title: 'AWS call errors by operation (per 5 min)',
        width: 8,
        left: [byOperation(cw.errors, 'errors')],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Installed certificates: days to expiry (daily check)',
        width: 12,
        left: [
          serviceMetric(cw.minDays, 'Minimum', { period: Duration.hours(1), label: 'soonest' }),
          serviceMetric(cw.days, 'Average', { period: Duration.hours(1), label: 'average' }),
        ],
        leftAnnotations: [{ value: props.expiryDays, label: 'expiry alarm' }],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue',
        width: 12,
        left: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'messages',
          }),
        ],
      }),
    );
  }
}
