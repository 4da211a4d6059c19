import { Duration } from 'aws-cdk-lib';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { createQueueSchedule } from './queue-schedule.ts';
import { expiryCheckSchedule } from './resource-definitions.ts';

/**
 * The daily expiry check: an EventBridge Scheduler schedule puts the expiry-check message on the
 * job queue; the worker walks the mappings and writes the days until each installed copy
 * expires (the InstalledCertificateExpiring alarm reads the minimum). About 30 invocations a
 * month, inside Scheduler's free 14 million. Delivery, dead letters and the execution role as
 * every schedule to the queue (queue-schedule.ts).
 */
export function createExpiryCheckSchedule(
  scope: Construct,
  id: string,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
): scheduler.Schedule {
  return createQueueSchedule(
    scope,
    id,
    {
      description: 'acm-cert-export: daily check of the installed certificates’ expiry',
      expression: expiryCheckSchedule.expression,
      timeZone: expiryCheckSchedule.timeZone,
      message: expiryCheckSchedule.message,
      // A check delivered half a day late is still worth running; later, the next one comes.
      maxEventAge: Duration.hours(12),
    },
    queue,
    deadLetterQueue,
  );
}
