import type { Logger } from '../logging/logger.ts';
import type { QueueDepth, WorkerService } from '../ports/worker-capacity.ts';

export type WakeOutcome =
  /** Nothing waits, is in flight or delayed. */
  | { readonly action: 'idle'; readonly messages: 0 }
  /** Work exists and the service already wants a task (or more). */
  | { readonly action: 'running'; readonly messages: number; readonly desiredCount: number }
  /** Work exists, the service wanted none: its desired count is now one. */
  | { readonly action: 'started'; readonly messages: number }
  /** Work exists but the service is not ACTIVE (being deleted) or unknown to ECS. */
  | { readonly action: 'unavailable'; readonly messages: number; readonly status: string };

export interface WakeDeps {
  readonly queue: QueueDepth;
  readonly service: WorkerService;
  readonly logger: Logger;
}

/**
 * One look, run every minute in the scale-to-zero deployment: when the job queue holds any
 * message (waiting, in flight or delayed) and the worker's service wants no task, ask for one.
 * CloudWatch's SQS metrics arrive a minute or more late and an alarm needs a full period on top;
 * GetQueueAttributes answers now, so a message waits at most about a minute for the service to
 * want a task. It only ever raises zero to one: more tasks, and back to zero, stay with
 * Application Auto Scaling's policies (infra/lib/worker-scaling.ts), which read the service's
 * desired count as they find it.
 */
export async function wakeWorker(deps: WakeDeps): Promise<WakeOutcome> {
  const work = await deps.queue.work();
  const messages = work.visible + work.inFlight + work.delayed;
  if (messages === 0) return { action: 'idle', messages: 0 };
  const state = await deps.service.state();
  if (state === undefined || state.status !== 'ACTIVE') {
    const status = state?.status ?? 'MISSING';
    deps.logger.warn(
      { messages, status },
      'jobs are waiting but the worker service is not active: not starting a task',
    );
    return { action: 'unavailable', messages, status };
  }
  if (state.desiredCount > 0) {
    return { action: 'running', messages, desiredCount: state.desiredCount };
  }
  await deps.service.setDesiredCount(1);
  deps.logger.info({ messages, ...work }, 'jobs are waiting and no worker task runs: starting one');
  return { action: 'started', messages };
}
