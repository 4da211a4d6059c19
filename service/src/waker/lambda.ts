/**
 * The waker's Lambda entry point (scale-to-zero deployments only): an EventBridge Scheduler
 * schedule invokes it every minute with no input worth reading; it looks at the job queue and
 * starts the worker's first task when work waits (wake-worker.ts). Its own composition root:
 * two clients, the app id `acm-cert-export-waker`, its own role.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EcsWorkerService } from '../adapters/ecs-worker-service.ts';
import { SqsQueueDepth } from '../adapters/sqs-queue-depth.ts';
import { clientOptions } from '../aws/clients.ts';
import { loadWakerConfigFromProcess, type WakerConfig } from '../config/waker-config.ts';
import { createLogger } from '../logging/logger.ts';
import { type WakeDeps, type WakeOutcome, wakeWorker } from './wake-worker.ts';

export function composeWaker(config: WakerConfig): WakeDeps & { destroy(): void } {
  const sqs = new SQSClient(clientOptions(config.aws, 'sqs', 'acm-cert-export-waker'));
  const ecs = new ECSClient(clientOptions(config.aws, 'ecs', 'acm-cert-export-waker'));
  return {
    queue: new SqsQueueDepth(sqs, config.queueUrl),
    service: new EcsWorkerService(ecs, { cluster: config.cluster, service: config.service }),
    logger: createLogger(config.logLevel, undefined, { service: 'acm-cert-export-waker' }),
    destroy() {
      sqs.destroy();
      ecs.destroy();
    },
  };
}

let deps: WakeDeps | undefined;

/** Scheduler's input is ignored: every invocation is the same look at the queue. */
export async function handler(): Promise<WakeOutcome> {
  deps ??= composeWaker(loadWakerConfigFromProcess());
  return wakeWorker(deps);
}
