/**
 * What the stack's schedules do when they fire, for the bed and the local run (the emulator runs
 * no EventBridge Scheduler): the schedule's Input, with the context attribute Scheduler fills,
 * sent to its target, the job queue.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  expiryCheckSchedule,
  reconcileSchedule,
  verifySchedule,
} from '../infra/lib/resource-definitions.ts';

/** A schedule's Input as Scheduler sends it for a run scheduled at `at`. */
function scheduledBody(message: object, at: Date): string {
  // Scheduler writes the scheduled time to the second, e.g. 2022-03-22T18:59:43Z.
  const scheduledTime = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return JSON.stringify(message).replace('<aws.scheduler.scheduled-time>', scheduledTime);
}

async function send(sqs: SQSClient, queueUrl: string, body: string): Promise<string> {
  const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  if (out.MessageId === undefined) throw new Error('SQS returned no message id');
  return out.MessageId;
}

/** The expiry-check schedule's Input as Scheduler sends it for a run scheduled at `at`. */
export function expiryCheckBody(at: Date): string {
  return scheduledBody(expiryCheckSchedule.message, at);
}

/** Fires the expiry check as its schedule would; returns the SQS message id. */
export async function sendExpiryCheck(
  sqs: SQSClient,
  queueUrl: string,
  at = new Date(),
): Promise<string> {
  return send(sqs, queueUrl, expiryCheckBody(at));
}

/** The reconciliation schedule's Input (the verify schedule's with `verify`) for a run at `at`. */
export function reconcileBody(at: Date, options: { verify?: boolean } = {}): string {
  const { message } = options.verify === true ? verifySchedule : reconcileSchedule;
  return scheduledBody(message, at);
}

/** Fires the reconciliation sweep (or, with `verify`, the verify sweep) as its schedule would. */
export async function sendReconcile(
  sqs: SQSClient,
  queueUrl: string,
  options: { verify?: boolean; at?: Date } = {},
): Promise<string> {
  return send(sqs, queueUrl, reconcileBody(options.at ?? new Date(), options));
}
