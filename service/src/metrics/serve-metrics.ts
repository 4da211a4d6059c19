import type { Logger } from 'pino';
import type { ProcessMetrics } from '../composition.ts';
import type { Config } from '../config/config.ts';
import { type MetricsServer, startMetricsServer } from './metrics-server.ts';

export interface ServedMetrics {
  /** The listener, when it listens. */
  readonly server?: MetricsServer;
  /** Stops the listener and writes the last EMF lines. */
  stop(): Promise<void>;
}

/**
 * Runs what the long-running process needs for its metrics: the /metrics listener (a port that
 * is taken is logged and the service runs on without it: metrics never stop deployments) and the
 * EMF flush every METRICS_EMF_FLUSH_SECONDS (its timer never keeps the process alive).
 */
export async function serveMetrics(
  measured: ProcessMetrics,
  config: Config['metrics'],
  logger: Logger,
): Promise<ServedMetrics> {
  let server: MetricsServer | undefined;
  const { prometheus, emf } = measured;
  if (prometheus !== undefined) {
    try {
      server = await startMetricsServer(() => prometheus.scrape(), {
        host: config.host,
        port: config.port,
      });
      logger.info({ address: server.address }, 'metrics listening on /metrics');
    } catch (error) {
      logger.error(
        { err: error, host: config.host, port: config.port },
        'the metrics listener could not start (METRICS_PORT taken?): running without /metrics',
      );
    }
  }
  const timer =
    emf === undefined ? undefined : setInterval(() => emf.flush(), config.emfFlushSeconds * 1000);
  timer?.unref();
  return {
    ...(server === undefined ? {} : { server }),
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await server?.close();
      emf?.flush();
    },
  };
}
