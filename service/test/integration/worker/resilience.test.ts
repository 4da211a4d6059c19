import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeWorker } from '../../../src/composition.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { startWorker } from '../../../src/worker/start-worker.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished } from './helpers.ts';

let system: RunningSystem;
let arn: string;

beforeAll(async () => {
  // One in ten of the service's AWS calls is answered with ThrottlingException, and ACM
  // export is held to 5 per second, as in an account at its quota.
  system = await aRunningSystem({
    throttleShare: 0.2,
    exportRatePerSecond: 5,
    env: { WORKER_CONCURRENCY: '6' },
  });
  arn = await anExportableCertificate(system.clients.acm);
  await anInstance(system.clients.ec2, { tags: { env: 'busy' } });
});

afterAll(async () => {
  await system?.stop();
});

describe('under throttling', () => {
  it('completes every job, retrying the throttled calls', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `it-throttle-${String(i).padStart(2, '0')}`);
    for (const jobId of ids) {
      await enqueue(system, {
        type: 'deploy',
        version: 1,
        jobId,
        certificateArn: arn,
        certName: jobId,
        target: { key: 'env', value: 'busy' },
      });
    }
    const done = await Promise.all(ids.map((id) => finished(system, id, 90_000)));
    expect(done.map((d) => d.status)).toEqual(ids.map(() => 'Succeeded'));
    const throttled = [...(system.proxy?.throttled.values() ?? [])].reduce((a, b) => a + b, 0);
    expect(throttled).toBeGreaterThan(0);
  }, 150_000);
});

describe('two jobs for the same certificate and target', () => {
  it('run one after the other, never overlapping, with two workers', async () => {
    // A second worker in this process, with its own clients and ports: two consumers racing
    // for the same queue.
    const { clients, worker } = composeWorker(system.config, createLogger('silent'));
    const second = startWorker(system.config, clients.sqs, worker);
    try {
      const body = (jobId: string) => ({
        type: 'deploy',
        version: 1,
        jobId,
        certificateArn: arn,
        certName: 'shared',
        target: { key: 'env', value: 'busy' },
      });
      await Promise.all([
        enqueue(system, body('it-order-aaaa')),
        enqueue(system, body('it-order-bbbb')),
      ]);
      const [a, b] = await Promise.all([
        finished(system, 'it-order-aaaa', 90_000),
        finished(system, 'it-order-bbbb', 90_000),
      ]);
      expect([a.status, b.status]).toEqual(['Succeeded', 'Succeeded']);
      const span = (d: typeof a) => ({
        start: Date.parse(
          d.conditions.find((c) => c.type === 'Exported')?.lastTransitionTime ?? '',
        ),
        end: Date.parse(d.finishedAt ?? ''),
      });
      const [first, last] = [span(a), span(b)].sort((x, y) => x.start - y.start);
      expect(first && last && first.end <= last.start).toBe(true);
      const mapping = await system.ports.mappings.get({
        target: { key: 'env', value: 'busy' },
        certificateArn: arn,
        certName: 'shared',
      });
      const later = span(a).start > span(b).start ? a : b;
      expect(mapping?.lastJobId).toBe(later.job.jobId);
    } finally {
      await second.stop(5000);
      clients.destroy();
    }
  }, 150_000);
});
