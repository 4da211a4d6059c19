import { type Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface QueueScheduleProps {
  readonly description: string;
  /** A Scheduler `rate(…)` or `cron(…)` expression, evaluated in `timeZone`. */
  readonly expression: string;
  readonly timeZone: string;
  /** The message body; Scheduler replaces `<aws.scheduler.scheduled-time>` in it. */
  readonly message: object;
  /** A run not delivered by then goes to the dead-letter queue instead. */
  readonly maxEventAge: Duration;
}

/**
 * An EventBridge Scheduler schedule that puts a message on the job queue. Scheduler rather than a
 * scheduled EventBridge rule: AWS calls scheduled rules legacy and recommends Scheduler, which
 * also has a per-target retry policy and dead-letter queue. Scheduler's invocations are free up to
 * 14 million a month.
 *
 * A run Scheduler could not deliver (after its retries, or older than maxEventAge) lands in the
 * job DLQ, where the DeadLetterQueueNotEmpty alarm sees it. The execution role (created by the
 * target, one for every schedule sending to this queue) may send to the job queue and the DLQ
 * only.
 */
export function createQueueSchedule(
  scope: Construct,
  id: string,
  props: QueueScheduleProps,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
): scheduler.Schedule {
  return new scheduler.Schedule(scope, id, {
    description: props.description,
    schedule: scheduler.ScheduleExpression.expression(
      props.expression,
      TimeZone.of(props.timeZone),
    ),
    target: new targets.SqsSendMessage(queue, {
      input: scheduler.ScheduleTargetInput.fromObject(props.message),
      deadLetterQueue,
      maxEventAge: props.maxEventAge,
    }),
  });
}
