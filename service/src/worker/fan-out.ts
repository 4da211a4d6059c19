import type { Logger } from 'pino';
import type { Mapping } from '../domain/mapping.ts';
import type { DeployMessage } from '../messages/deploy-message.ts';
import {
  ack,
  deadLetter,
  type HandlerOutcome,
  later,
  type MessageContext,
} from './handler-outcome.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** The deploy job of one mapping, as an event asks for it (renewal, server started). */
export function mappingJob(
  m: Mapping,
  extra: Pick<DeployMessage, 'jobId' | 'requester' | 'trigger' | 'eventId' | 'instanceIds'>,
): DeployMessage {
  return {
    type: 'deploy',
    version: 1,
    certificateArn: m.certificateArn,
    certName: m.certName,
    target: m.target,
    ...(Object.keys(m.install).length > 0 ? { install: m.install } : {}),
    ...extra,
  };
}

/**
 * Finds the mappings an event concerns and queues one job each. Job ids derive from the event,
 * so a duplicate event (or a redelivery after a partial fan-out) queues the same jobs, which the
 * deploy handler runs once. These messages are never kept in flight on purpose, so the receive
 * count is a failure count: after `maxFailures` receives the event goes to the DLQ.
 */
export async function fanOut(
  what: string,
  ctx: MessageContext,
  deps: WorkerDeps,
  log: Logger,
  plan: () => Promise<{ jobs: DeployMessage[]; delaySeconds?: number } | { ignored: string }>,
): Promise<HandlerOutcome> {
  try {
    const planned = await plan();
    if ('ignored' in planned) {
      log.info(`${what} ignored: ${planned.ignored}`);
      return ack;
    }
    for (const job of planned.jobs) {
      await deps.queue.send(
        job,
        planned.delaySeconds === undefined ? {} : { delaySeconds: planned.delaySeconds },
      );
      log.info(
        {
          jobId: job.jobId,
          target: `${job.target.key}=${job.target.value}`,
          certName: job.certName,
        },
        `${what}: deployment queued`,
      );
    }
    return ack;
  } catch (error) {
    const message = error instanceof Error ? error.message : 'unknown error';
    if (ctx.receiveCount >= deps.settings.maxFailures) {
      return deadLetter(`${what} fan-out failed ${ctx.receiveCount} times: ${message}`);
    }
    log.warn({ err: error }, `${what} fan-out failed; will retry`);
    return later(2 ** ctx.receiveCount, `${what} fan-out failed`);
  }
}
