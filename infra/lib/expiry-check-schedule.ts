import { Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { expiryCheckSchedule } from './resource-definitions.ts';

/**
 * The daily expiry check: an EventBridge Scheduler schedule puts the expiry-check message on the
 * job queue; the worker walks the mappings and writes the days until each installed copy
 * expires (the InstalledCertificateExpiring alarm reads the minimum). Scheduler rather than a
 * scheduled EventBridge rule: AWS calls scheduled rules legacy and recommends Scheduler, which
 * also has a per-target retry policy and dead-letter queue. About 30 invocations a month, inside
 * Scheduler's free 14 million.
 *
 * A run Scheduler could not deliver (after its retries, or older than maxEventAge) lands in the
 * job DLQ, where the DeadLetterQueueNotEmpty alarm sees it. Its execution role (created by the
 * target) may send to the job queue and the DLQ only.
 */
export function createExpiryCheckSchedule(
  scope: Construct,
  id: string,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
): scheduler.Schedule {
  return new scheduler.Schedule(scope, id, {
    description: 'acm-cert-export: daily check of the installed certificates’ expiry',
    schedule: scheduler.ScheduleExpression.expression(
      expiryCheckSchedule.expression,
      TimeZone.of(expiryCheckSchedule.timeZone),
    ),
    target: new targets.SqsSendMessage(queue, {
      input: scheduler.ScheduleTargetInput.fromObject(expiryCheckSchedule.message),
      deadLetterQueue,
      // A check delivered half a day late is still worth running; later, the next one comes.
      maxEventAge: Duration.hours(12),
    }),
  });
}
