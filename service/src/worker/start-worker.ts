import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config/config.ts';
import { isTerminal } from '../domain/deployment.ts';
import type { CommandStatusEnvelope } from '../messages/command-status-event.ts';
import type { CommandProgress } from '../ports/command-runner.ts';
import type { Look } from './command-watcher.ts';
import { ack, type HandlerOutcome } from './handler-outcome.ts';
import { rememberingProgress } from './remembered-progress.ts';
import { defaultHandlers, route } from './router.ts';
import type { ScaleInGuard } from './scale-in-guard.ts';
import { createSqsWorker, type SqsWorker } from './sqs-worker.ts';
import type { WorkerDeps } from './worker-deps.ts';

/**
 * The queue consumer of one process, wired to the router, with a command watcher: a job whose
 * command runs waits there without a consumer, and Run Command's status-change events (routed to
 * the queue by the stack's rule) resume it at once. With a guard (on ECS), the task is protected
 * from scale-in while it holds messages.
 */
export function startWorker(
  config: Config,
  sqs: SQSClient,
  deps: WorkerDeps,
  guard?: ScaleInGuard,
): SqsWorker {
  const now = () => deps.clock.now().getTime();
  const remembering = rememberingProgress(deps.commands, now);
  const jobDeps: WorkerDeps = { ...deps, commands: remembering.runner };
  const summary = (p: CommandProgress): Look => ({
    ended: remembering.ended(p),
    progress: remembering.progressOf(p),
  });
  let worker: SqsWorker | undefined;
  const commandStatus = async (e: CommandStatusEnvelope): Promise<HandlerOutcome> => {
    const commandId = e.detail['command-id'];
    const resumed = worker?.wake(commandId, e.detail.status);
    deps.logger.debug(
      { commandId, status: e.detail.status, woken: resumed !== undefined },
      resumed === undefined
        ? 'command status event for a job not followed here'
        : 'command ended: resuming its job',
    );
    // Acknowledged with the job it resumed: their two deletes go in one request.
    if (resumed !== undefined) {
      await Promise.race([resumed, sleep(60_000, undefined, { ref: false })]);
    }
    return ack;
  };
  const handlers = { ...defaultHandlers, 'command-status': commandStatus };
  worker = createSqsWorker({
    sqs,
    queueUrl: config.worker.queueUrl,
    deadLetterQueueUrl: config.worker.deadLetterQueueUrl,
    concurrency: config.worker.concurrency,
    visibilityTimeoutSeconds: config.worker.visibilityTimeoutSeconds,
    receiveWaitSeconds: config.worker.receiveWaitSeconds,
    logger: deps.logger,
    handle: (ctx) => route(ctx, jobDeps, handlers),
    now,
    metrics: deps.metrics,
    watch: {
      lookIntervalMs: config.worker.commandLookSeconds * 1000,
      recordCheckMs: config.worker.cancelCheckSeconds * 1000,
      look: async (commandId) => summary(await remembering.look(commandId)),
      lookEnded: async (commandId, status) => summary(await remembering.look(commandId, status)),
      needsAttention: async (jobId) => {
        const record = await deps.deployments.get(jobId);
        return (
          record === undefined ||
          isTerminal(record.status) ||
          (record.cancelRequest !== undefined && record.commandCancelledAt === undefined)
        );
      },
    },
    ...(guard === undefined ? {} : { guard }),
  });
  worker.start();
  return worker;
}
