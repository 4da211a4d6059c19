import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics as defs } from '../../../src/metrics/definitions.ts';
import { type MetricsServer, startMetricsServer } from '../../../src/metrics/metrics-server.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { emfProblems } from '../../support/emf-spec.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished } from './helpers.ts';

let system: RunningSystem;
let server: MetricsServer;
let arn: string;

/** One series' value in a scrape's text (undefined: no such series). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) =>
        (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) &&
        Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  system = await aRunningSystem({ env: { METRICS_EMF: 'true', METRICS_PORT: '0' } });
  const prometheus = system.metrics.prometheus;
  if (prometheus === undefined) throw new Error('no Prometheus metrics');
  server = await startMetricsServer(() => prometheus.scrape(), { host: '127.0.0.1', port: 0 });
  arn = await anExportableCertificate(system.clients.acm);
  await anInstance(system.clients.ec2, { tags: { env: 'metrics' } });
  await anInstance(system.clients.ec2, { tags: { env: 'metrics' } });
});

afterAll(async () => {
  await server?.close();
  await system?.stop();
});

describe('metrics of a deployment on the bed', () => {
  it('/metrics counts the deployment by outcome, the AWS calls by operation, the queue lag and the mapping', async () => {
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-metrics-0001',
      certificateArn: arn,
      certName: 'metrics',
      target: { key: 'env', value: 'metrics' },
    });
    const d = await finished(system, 'it-metrics-0001');
    expect(d.status, d.reason).toBe('Succeeded');

    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(sample(text, defs.deployments.prometheus.name, { outcome: 'Succeeded' })).toBe(1);
    expect(
      sample(text, 'acm_cert_export_job_duration_seconds_count', { outcome: 'Succeeded' }),
    ).toBe(1);
    // The real SDK clients' calls, named by service and operation (lib-dynamodb's included).
    const calls = (service: string, operation: string) =>
      sample(text, defs.awsCalls.prometheus.name, { service, operation });
    expect(calls('ACM', 'ExportCertificate')).toBeGreaterThanOrEqual(1);
    expect(calls('SSM', 'SendCommand')).toBe(1);
    expect(calls('SecretsManager', 'CreateSecret')).toBe(1);
    expect(calls('DynamoDB', 'PutItem')).toBeGreaterThanOrEqual(1);
    expect(calls('SQS', 'ReceiveMessage')).toBeGreaterThanOrEqual(1);
    expect(calls('DynamoDB', 'UpdateItem')).toBeGreaterThanOrEqual(1);
    for (const line of text
      .split('\n')
      .filter((l) => l.startsWith(defs.awsCalls.prometheus.name))) {
      expect(line).not.toMatch(/service="unknown"|operation="unknown"/);
    }
    // The job's message was taken off the queue: one lag observation at least.
    expect(sample(text, 'acm_cert_export_queue_lag_seconds_count', {})).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'acm_cert_export_step_duration_seconds_count', {
        step: 'export',
        result: 'done',
      }),
    ).toBe(1);
    // The mapping: its certificate's days to expiry, and both servers converged.
    const mapping = { certificate_arn: arn, cert_name: 'metrics', target: 'env=metrics' };
    expect(sample(text, defs.daysToExpiry.prometheus.name, mapping)).toBeGreaterThan(0);
    expect(sample(text, defs.serversConverged.prometheus.name, mapping)).toBe(2);
    expect(sample(text, defs.servers.prometheus.name, mapping)).toBe(2);
  });

  it('the same as EMF lines a CloudWatch agent would accept, by Service and Operation', () => {
    system.metrics.emf?.flush();
    expect(system.emfLines.length).toBeGreaterThan(0);
    for (const line of system.emfLines) expect(emfProblems(line)).toEqual([]);
    const docs = system.emfLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs).toContainEqual(
      expect.objectContaining({
        Service: 'ACM',
        Operation: 'ExportCertificate',
        AwsCalls: expect.any(Number),
      }),
    );
    expect(docs.some((doc) => Array.isArray(doc.QueueLag))).toBe(true);
    expect(docs.some((doc) => Array.isArray(doc.JobDuration))).toBe(true);
    // One Service/Operation combination per AWS operation called: 13 for a first deployment
    // here (docs/operations.md counts them for the cost).
    const operations = new Set(
      docs.filter((doc) => 'AwsCalls' in doc).map((doc) => `${doc.Service}.${doc.Operation}`),
    );
    expect(operations.size).toBeGreaterThanOrEqual(10);
  });
});
