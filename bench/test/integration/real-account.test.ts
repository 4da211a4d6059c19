/**
 * The real-account mode's own code path (no bed of its own: endpoints and credentials from the
 * environment, requests counted by SDK middleware) pointed at the test bed through
 * AWS_ENDPOINT_URL: the bed's counting proxies see the same run, so the middleware's counts must
 * equal theirs, operation by operation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchSystem, startBenchSystem } from '../../bench-system.ts';
import { runRealAccount } from '../../real-account.ts';
import { countsOf } from '../../request-counter.ts';

let system: BenchSystem;

beforeAll(async () => {
  system = await startBenchSystem({ 'bench-real': 2 }, { 'bench-real': 'instant' });
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

function sum(...maps: ReadonlyMap<string, number>[]): Record<string, number> {
  const out = new Map<string, number>();
  for (const m of maps) for (const [op, n] of m) out.set(op, (out.get(op) ?? 0) + n);
  return countsOf(out);
}

describe('npm run bench -- --real-account', () => {
  it('counts by SDK middleware exactly what the proxies in front of the bed count', async () => {
    system.aws.reset();
    system.ssmProxy.reset();
    const deployments = 3;
    const result = await runRealAccount(
      ['--real-account'],
      {
        // The standard chain: region, endpoints and credentials from the environment only.
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: system.aws.endpoint,
        AWS_ENDPOINT_URL_SSM: system.ssmProxy.endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        MAPPING_TABLE: system.provisioned.names.mappingTable,
        DEPLOYMENTS_TABLE: system.provisioned.names.deploymentsTable,
        SERVERS_TABLE: system.provisioned.names.serversTable,
        QUEUE_URL: system.provisioned.queueUrl,
        DLQ_URL: system.provisioned.deadLetterQueueUrl,
        BENCH_CERTIFICATE_ARN: system.certificateArn,
        BENCH_TARGET: 'env=bench-real',
      },
      { deployments, prefix: 'it-real', profiles: [{ profile: 'nat', fixedMonthlyUsd: 71.77 }] },
    );
    expect(result.first.failed, result.first.failureReasons.join('; ')).toBe(0);
    expect(result.repeat.failed, result.repeat.failureReasons.join('; ')).toBe(0);

    const proxied = countsOf(new Map([...system.aws.counts, ...system.ssmProxy.counts]));
    const counted = sum(result.service.lifetime.counts, result.bench.lifetime.counts);
    expect(counted).toEqual(proxied);
    expect(sum(result.service.lifetime.throttled, result.bench.lifetime.throttled)).toEqual(
      countsOf(new Map([...system.aws.throttled, ...system.ssmProxy.throttled])),
    );

    // And known counts: one command and one export per deployment, each run.
    for (const run of [result.first, result.repeat]) {
      expect(run.requests['AmazonSSM.SendCommand']).toBe(deployments);
      expect(run.requests['CertificateManager.ExportCertificate']).toBe(deployments);
      expect(run.serversReached).toBe(2 * deployments);
      expect(run.dynamo.length).toBeGreaterThan(0);
    }
    // The service's own clients never touched the bench's reads of the records.
    expect(result.bench.lifetime.counts.get('AmazonSQS.SendMessageBatch')).toBe(2);
  }, 240_000);
});
