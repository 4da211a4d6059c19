import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config/config.ts';
import { route } from './router.ts';
import { createSqsWorker, type SqsWorker } from './sqs-worker.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** The queue consumer of one process, wired to the router. */
export function startWorker(config: Config, sqs: SQSClient, deps: WorkerDeps): SqsWorker {
  const worker = createSqsWorker({
    sqs,
    queueUrl: config.worker.queueUrl,
    deadLetterQueueUrl: config.worker.deadLetterQueueUrl,
    concurrency: config.worker.concurrency,
    visibilityTimeoutSeconds: config.worker.visibilityTimeoutSeconds,
    receiveWaitSeconds: config.worker.receiveWaitSeconds,
    logger: deps.logger,
    handle: (ctx) => route(ctx, deps),
  });
  worker.start();
  return worker;
}
