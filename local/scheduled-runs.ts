/**
 * What the stack's schedules do when they fire, for the bed and the local run (the emulator runs
 * no EventBridge Scheduler): the schedule's Input, with the context attribute Scheduler fills,
 * sent to its target, the job queue.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { expiryCheckSchedule } from '../infra/lib/resource-definitions.ts';

/** The expiry-check schedule's Input as Scheduler sends it for a run scheduled at `at`. */
export function expiryCheckBody(at: Date): string {
  // Scheduler writes the scheduled time to the second, e.g. 2022-03-22T18:59:43Z.
  const scheduledTime = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return JSON.stringify(expiryCheckSchedule.message).replace(
    '<aws.scheduler.scheduled-time>',
    scheduledTime,
  );
}

/** Fires the expiry check as its schedule would; returns the SQS message id. */
export async function sendExpiryCheck(
  sqs: SQSClient,
  queueUrl: string,
  at = new Date(),
): Promise<string> {
  const out = await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: expiryCheckBody(at) }),
  );
  if (out.MessageId === undefined) throw new Error('SQS returned no message id');
  return out.MessageId;
}
