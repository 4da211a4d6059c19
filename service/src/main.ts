/**
 * The process: reads the configuration once, builds the object graph, starts the HTTP API and
 * the queue worker (each can be switched off), and stops both cleanly on SIGTERM (ECS) or SIGINT.
 */

import type { RunningApi } from './api/start-api.ts';
import { compose } from './composition.ts';
import { type Config, loadConfigFromProcess } from './config/config.ts';
import { createProcessLogger } from './logging/logger.ts';
import { serveMetrics } from './metrics/serve-metrics.ts';
import type { SqsWorker } from './worker/sqs-worker.ts';
import { startWorker } from './worker/start-worker.ts';

let config: Config;
try {
  config = loadConfigFromProcess();
} catch (error) {
  console.error(
    `acm-cert-export: invalid configuration: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(78); // EX_CONFIG
}

const logger = await createProcessLogger(config.logLevel, config.logFormat);
const graph = compose(config, logger);
let worker: SqsWorker | undefined;
let api: RunningApi | undefined;
const metrics = await serveMetrics(graph.metrics, config.metrics, logger);

if (config.worker.enabled) {
  worker = startWorker(config, graph.clients.sqs, graph.worker, graph.scaleInGuard);
}
if (config.api.enabled) {
  const { startApi } = await import('./api/start-api.ts');
  api = await startApi(graph.api);
  logger.info({ address: api.address }, 'API listening');
}
if (worker === undefined && api === undefined) {
  logger.error('both API_ENABLED and WORKER_ENABLED are false: nothing to run');
  process.exit(78);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  const graceMs = config.worker.shutdownGraceSeconds * 1000;
  await Promise.allSettled([worker?.stop(graceMs), api?.close()]);
  await metrics.stop();
  graph.clients.destroy();
  logger.info('stopped');
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
