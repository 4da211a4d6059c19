import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/** How long the queue stays empty before a scale-to-zero service lets a task go. */
export const idleMinutesBeforeScaleIn = 5;

/**
 * The queue's messages of one kind, per minute: SQS publishes its metrics every minute, and
 * only while the queue is active (a metric of a kind the queue has none of can be missing).
 */
function queueMetric(queue: sqs.IQueue, metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/SQS',
    metricName,
    dimensionsMap: { QueueName: queue.queueName },
    statistic: cloudwatch.Stats.MAXIMUM,
    period: Duration.minutes(1),
  });
}

/**
 * Every message the service still has to do something with: waiting, in flight (a job being
 * worked on, or polled through a visibility delay) and delayed (a server that just started).
 * Missing data points count as none.
 */
export function queueWorkMetric(queue: sqs.IQueue): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'FILL(visible, 0) + FILL(inFlight, 0) + FILL(delayed, 0)',
    usingMetrics: {
      visible: queueMetric(queue, 'ApproximateNumberOfMessagesVisible'),
      inFlight: queueMetric(queue, 'ApproximateNumberOfMessagesNotVisible'),
      delayed: queueMetric(queue, 'ApproximateNumberOfMessagesDelayed'),
    },
    label: 'messages waiting, in flight and delayed',
    period: Duration.minutes(1),
  });
}

/**
 * Scaling on the job queue. With at least one task: +1 task from 20 waiting messages, +3 from
 * 200, -1 when none waits (in-flight jobs are polled by whichever task receives them; the one
 * handling a message is protected from scale-in). With `minCount` 0: the first task comes from
 * the waker (worker-waker.ts), more on a backlog as above, and -1 only after the queue has had nothing
 * waiting, in flight or delayed for `idleMinutesBeforeScaleIn` minutes, so a job that is being
 * polled keeps a task. Visible messages are those nobody has picked up yet.
 */
export function scaleOnJobQueue(
  service: ecs.FargateService,
  queue: sqs.IQueue,
  bounds: { readonly minCount: number; readonly maxCount: number },
): void {
  const scaling = service.autoScaleTaskCount({
    minCapacity: bounds.minCount,
    maxCapacity: bounds.maxCount,
  });
  const waiting = queue.metricApproximateNumberOfMessagesVisible({
    period: Duration.minutes(1),
    statistic: cloudwatch.Stats.MAXIMUM,
  });
  const cooldown = Duration.minutes(3);
  if (bounds.minCount > 0) {
    scaling.scaleOnMetric('QueueBacklog', {
      metric: waiting,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 0, change: -1 },
        { lower: 20, change: +1 },
        { lower: 200, change: +3 },
      ],
      cooldown,
    });
    return;
  }
  scaling.scaleOnMetric('QueueBacklog', {
    metric: waiting,
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    // Out only, on a backlog as with minCount ≥ 1. The first task comes from the waker
    // (worker-waker.ts) within a minute; a step from one waiting message would add a second
    // task behind it, since the metric shows the message that waited for the first to start.
    scalingSteps: [
      { lower: 20, change: +1 },
      { lower: 200, change: +3 },
    ],
    cooldown,
  });
  scaling.scaleOnMetric('QueueEmpty', {
    metric: queueWorkMetric(queue),
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    scalingSteps: [
      { upper: 0, change: -1 },
      { lower: 1, change: 0 },
    ],
    evaluationPeriods: idleMinutesBeforeScaleIn,
    cooldown: Duration.minutes(1),
  });
}
