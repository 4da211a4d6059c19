import { describe, expect, it } from 'vitest';
import { metrics as defs } from '../../../src/metrics/definitions.ts';
import { startMetricsServer } from '../../../src/metrics/metrics-server.ts';
import { PrometheusMetrics } from '../../../src/metrics/prometheus-metrics.ts';
import { ManualClock } from '../../support/fakes/aws-fakes.ts';

const web = {
  certificateArn: 'arn:aws:acm:us-east-1:1:certificate/a',
  certName: 'web',
  target: 'env=prod',
};
const api = {
  certificateArn: 'arn:aws:acm:us-east-1:1:certificate/b',
  certName: 'api',
  target: 'env=prod',
};

/** The value of one series in the text a scrape answers (undefined: no such series). */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (.+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = (match[2] ?? '').split(/,(?=[a-z_]+=")/).filter((l) => l !== '');
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) {
      return Number(match[3]);
    }
  }
  return undefined;
}

function world(maxMappings = 10) {
  const clock = new ManualClock('2026-01-01T00:00:00.000Z');
  return { clock, prom: new PrometheusMetrics({ clock, maxMappings }) };
}

describe('Prometheus metrics', () => {
  it('counts deployments by outcome and observes job, step and lag histograms', async () => {
    const { prom } = world();
    prom.deploymentFinished('Succeeded', 30);
    prom.deploymentFinished('Succeeded', 50);
    prom.deploymentFinished('Failed', 5);
    prom.stepFinished('export', 'done', 0.4);
    prom.stepFinished('poll', 'waiting', 2);
    prom.messagePickedUp(0.3);
    const { body, contentType } = await prom.scrape();
    expect(contentType).toMatch(/^text\/plain/);
    expect(sample(body, defs.deployments.prometheus.name, { outcome: 'Succeeded' })).toBe(2);
    expect(sample(body, defs.deployments.prometheus.name, { outcome: 'Failed' })).toBe(1);
    expect(
      sample(body, 'acm_cert_export_job_duration_seconds_count', { outcome: 'Succeeded' }),
    ).toBe(2);
    expect(sample(body, 'acm_cert_export_job_duration_seconds_sum', { outcome: 'Succeeded' })).toBe(
      80,
    );
    expect(
      sample(body, 'acm_cert_export_step_duration_seconds_bucket', {
        le: '0.5',
        step: 'export',
        result: 'done',
      }),
    ).toBe(1);
    expect(
      sample(body, 'acm_cert_export_step_duration_seconds_count', {
        step: 'poll',
        result: 'waiting',
      }),
    ).toBe(1);
    expect(sample(body, 'acm_cert_export_queue_lag_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(sample(body, 'acm_cert_export_queue_lag_seconds_count')).toBe(1);
  });

  it('counts AWS calls and errors by service and operation, errors by kind', async () => {
    const { prom } = world();
    prom.awsCall('DynamoDB', 'PutItem');
    prom.awsCall('DynamoDB', 'PutItem', 'throttled');
    prom.awsCall('SSM', 'SendCommand', 'client');
    const { body } = await prom.scrape();
    expect(
      sample(body, defs.awsCalls.prometheus.name, { service: 'DynamoDB', operation: 'PutItem' }),
    ).toBe(2);
    expect(
      sample(body, defs.awsCalls.prometheus.name, { service: 'SSM', operation: 'SendCommand' }),
    ).toBe(1);
    expect(
      sample(body, defs.awsErrors.prometheus.name, {
        service: 'DynamoDB',
        operation: 'PutItem',
        kind: 'throttled',
      }),
    ).toBe(1);
    expect(
      sample(body, defs.awsErrors.prometheus.name, {
        service: 'SSM',
        operation: 'SendCommand',
        kind: 'client',
      }),
    ).toBe(1);
  });

  it('computes days to expiry at each scrape from what was recorded, with servers converged per mapping', async () => {
    const { prom, clock } = world();
    prom.mappingObserved(web, {
      notAfter: '2026-01-31T00:00:00.000Z',
      servers: 3,
      serversConverged: 2,
    });
    prom.mappingObserved(api, { notAfter: '2026-01-11T00:00:00.000Z' });
    const labels = { certificate_arn: web.certificateArn, cert_name: 'web', target: 'env=prod' };
    let { body } = await prom.scrape();
    expect(sample(body, defs.daysToExpiry.prometheus.name, labels)).toBe(30);
    expect(sample(body, defs.serversConverged.prometheus.name, labels)).toBe(2);
    expect(sample(body, defs.servers.prometheus.name, labels)).toBe(3);
    expect(sample(body, defs.minDaysToExpiry.prometheus.name)).toBe(10);
    // No deployment meanwhile: a day later the gauges say one day less.
    clock.advance(86_400_000);
    ({ body } = await prom.scrape());
    expect(sample(body, defs.daysToExpiry.prometheus.name, labels)).toBe(29);
    expect(sample(body, defs.minDaysToExpiry.prometheus.name)).toBe(9);
    // A later observation without servers keeps the counts known.
    prom.mappingObserved(web, { notAfter: '2026-03-02T00:00:00.000Z' });
    ({ body } = await prom.scrape());
    expect(sample(body, defs.serversConverged.prometheus.name, labels)).toBe(2);
    expect(sample(body, defs.daysToExpiry.prometheus.name, labels)).toBe(59);
    prom.mappingForgotten(web);
    ({ body } = await prom.scrape());
    expect(sample(body, defs.daysToExpiry.prometheus.name, labels)).toBeUndefined();
    expect(sample(body, defs.serversConverged.prometheus.name, labels)).toBeUndefined();
  });

  it('keeps series for at most METRICS_MAX_MAPPINGS mappings, the one observed longest ago making room', async () => {
    const { prom } = world(2);
    const m = (i: number) => ({ ...web, certName: `c${i}` });
    for (const i of [1, 2, 3]) prom.mappingObserved(m(i), { notAfter: '2026-02-01T00:00:00Z' });
    // c2 observed again: c3 and c2 stay when c4 comes.
    prom.mappingObserved(m(2), { servers: 1 });
    prom.mappingObserved(m(4), { notAfter: '2026-02-01T00:00:00Z' });
    const { body } = await prom.scrape();
    const names = body
      .split('\n')
      .filter((l) => l.startsWith(`${defs.daysToExpiry.prometheus.name}{`))
      .map((l) => /cert_name="([^"]+)"/.exec(l)?.[1]);
    expect(names.sort()).toEqual(['c2', 'c4']);
  });

  it('is served on a listener of its own: GET /metrics only', async () => {
    const { prom } = world();
    prom.deploymentFinished('NoTargets', 1);
    const server = await startMetricsServer(() => prom.scrape(), { host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const ok = await fetch(`${base}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(
        sample(await ok.text(), defs.deployments.prometheus.name, { outcome: 'NoTargets' }),
      ).toBe(1);
      expect((await fetch(`${base}/`)).status).toBe(404);
      expect((await fetch(`${base}/v1/deployments`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('answers 500 when collecting fails, without stopping', async () => {
    let fail = true;
    const server = await startMetricsServer(
      async () => {
        if (fail) throw new Error('boom');
        return { body: 'x 1\n', contentType: 'text/plain' };
      },
      { host: '127.0.0.1', port: 0 },
    );
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(500);
      fail = false;
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
