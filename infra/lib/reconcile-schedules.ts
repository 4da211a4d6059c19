import { Duration } from 'aws-cdk-lib';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { createQueueSchedule } from './queue-schedule.ts';
import { reconcileSchedule, verifySchedule } from './resource-definitions.ts';
import type { StackSettings } from './settings.ts';

/**
 * The reconciliation sweeps (issue 12): the worker compares every mapping with ACM and with its
 * servers and deploys what drifted — a renewal whose event was lost, a server that missed its
 * install — hourly by default (`reconcileSchedule`), and daily also checks the installed files
 * with the install document's Verify mode (`verifySchedule`). Either may be `off`. About 730 and
 * 30 invocations a month, inside Scheduler's free 14 million; the sweep's own cost is the
 * worker's requests per mapping (and, with `minTasks=0`, a task started for each run).
 */
export function createReconcileSchedules(
  scope: Construct,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
  expressions: StackSettings['schedules'],
): void {
  if (expressions.reconcile !== undefined) {
    createQueueSchedule(
      scope,
      'ReconcileSchedule',
      {
        description:
          'acm-cert-export: reconciliation sweep, every mapping compared with ACM and its servers',
        expression: expressions.reconcile,
        timeZone: reconcileSchedule.timeZone,
        message: reconcileSchedule.message,
        // A sweep that could not be delivered within the hour is replaced by the next one.
        maxEventAge: Duration.hours(1),
      },
      queue,
      deadLetterQueue,
    );
  }
  if (expressions.verify !== undefined) {
    createQueueSchedule(
      scope,
      'VerifySchedule',
      {
        description:
          'acm-cert-export: verify sweep, the reconciliation sweep that also checks the servers’ installed files',
        expression: expressions.verify,
        timeZone: verifySchedule.timeZone,
        message: verifySchedule.message,
        // As the expiry check: half a day late is still worth running.
        maxEventAge: Duration.hours(12),
      },
      queue,
      deadLetterQueue,
    );
  }
}
