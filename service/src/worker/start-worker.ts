import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config/config.ts';
import { route } from './router.ts';
import type { ScaleInGuard } from './scale-in-guard.ts';
import { createSqsWorker, type SqsWorker } from './sqs-worker.ts';
import type { WorkerDeps } from './worker-deps.ts';

/**
 * The queue consumer of one process, wired to the router; with a guard (on ECS), the task is
 * protected from scale-in while it holds messages.
 */
export function startWorker(
  config: Config,
  sqs: SQSClient,
  deps: WorkerDeps,
  guard?: ScaleInGuard,
): SqsWorker {
  const worker = createSqsWorker({
    sqs,
    queueUrl: config.worker.queueUrl,
    deadLetterQueueUrl: config.worker.deadLetterQueueUrl,
    concurrency: config.worker.concurrency,
    visibilityTimeoutSeconds: config.worker.visibilityTimeoutSeconds,
    receiveWaitSeconds: config.worker.receiveWaitSeconds,
    logger: deps.logger,
    handle: (ctx) => route(ctx, deps),
    ...(guard === undefined ? {} : { guard }),
  });
  worker.start();
  return worker;
}
