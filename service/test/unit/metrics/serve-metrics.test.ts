import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildMetrics } from '../../../src/composition.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { flushingAfter } from '../../../src/lambda.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { serveMetrics } from '../../../src/metrics/serve-metrics.ts';
import { noMetrics } from '../../../src/ports/metrics.ts';
import { emfProblems } from '../../support/emf-spec.ts';

const base = {
  QUEUE_URL: 'http://127.0.0.1:1/000000000000/q',
  DLQ_URL: 'http://127.0.0.1:1/000000000000/dlq',
  AWS_REGION: 'us-east-1',
};

function logged() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', {
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  } as unknown as NodeJS.WritableStream);
  return { lines, logger };
}

describe('the metrics settings and what the process runs', () => {
  it('defaults: the listener on 0.0.0.0:9464, no EMF, the AcmCertExport namespace, 1,000 mappings', () => {
    expect(loadConfig(base).metrics).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 9464,
      maxMappings: 1000,
      emf: false,
      emfFlushSeconds: 60,
      namespace: 'AcmCertExport',
    });
    // Where the API listens, unless set: a local run on loopback keeps its metrics there.
    expect(loadConfig({ ...base, HOST: '127.0.0.1' }).metrics.host).toBe('127.0.0.1');
    expect(loadConfig({ ...base, HOST: '127.0.0.1', METRICS_HOST: '0.0.0.0' }).metrics.host).toBe(
      '0.0.0.0',
    );
    expect(() => loadConfig({ ...base, METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
    expect(() => loadConfig({ ...base, METRICS_EMF: 'yes' })).toThrow(/METRICS_EMF/);
  });

  it('measures nothing when both are off, Prometheus and EMF when both are on', () => {
    const off = buildMetrics(loadConfig({ ...base, METRICS_ENABLED: 'false' }));
    expect(off.metrics).toBe(noMetrics);
    expect(off.prometheus).toBeUndefined();
    const lines: string[] = [];
    const on = buildMetrics(
      loadConfig({ ...base, METRICS_EMF: 'true', METRICS_NAMESPACE: 'Ns' }),
      undefined,
      (l) => lines.push(l),
    );
    on.metrics.awsCall('SQS', 'ReceiveMessage');
    on.emf?.flush();
    expect(lines).toHaveLength(1);
    expect(emfProblems(lines[0] ?? '')).toEqual([]);
    expect(JSON.parse(lines[0] ?? '{}')._aws.CloudWatchMetrics[0].Namespace).toBe('Ns');
  });

  it('a taken port is logged and the process goes on without /metrics; stop writes the last EMF lines', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const config = loadConfig({
        ...base,
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(port),
        METRICS_EMF: 'true',
      });
      const emfLines: string[] = [];
      const measured = buildMetrics(config, undefined, (l) => emfLines.push(l));
      const { lines, logger } = logged();
      const served = await serveMetrics(measured, config.metrics, logger);
      expect(served.server).toBeUndefined();
      expect(lines.find((l) => l.level === 'error')?.msg).toMatch(
        /metrics listener could not start/,
      );
      measured.metrics.stepFinished('export', 'done', 1);
      await served.stop();
      expect(emfLines.map((l) => JSON.parse(l).Step)).toEqual(['export']);
    } finally {
      blocker.close();
    }
  });

  it('serves the registry on the port asked for', async () => {
    const config = loadConfig({ ...base, METRICS_HOST: '127.0.0.1', METRICS_PORT: '0' });
    const measured = buildMetrics(config);
    measured.metrics.deploymentFinished('Succeeded', 3);
    const served = await serveMetrics(measured, config.metrics, logged().logger);
    try {
      const text = await (await fetch(`http://127.0.0.1:${served.server?.port}/metrics`)).text();
      expect(text).toMatch(/^acm_cert_export_deployments_total\{outcome="Succeeded"\} 1$/m);
      expect(text).toMatch(/^process_resident_memory_bytes /m);
    } finally {
      await served.stop();
    }
  });

  it('Lambda: the EMF lines are written after each invocation, failed ones too', async () => {
    let flushed = 0;
    const ok = flushingAfter(
      async () => 'answer',
      () => flushed++,
    );
    expect(await ok({}, {})).toBe('answer');
    const failing = flushingAfter(
      async () => {
        throw new Error('boom');
      },
      () => flushed++,
    );
    await expect(failing({}, {})).rejects.toThrow('boom');
    expect(flushed).toBe(2);
  });
});
