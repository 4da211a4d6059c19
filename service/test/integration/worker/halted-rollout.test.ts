import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { instances } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished, installedFile } from './helpers.ts';

// An operator who wants a rollout to stop at the first failure (SSM_MAX_ERRORS=0, one server at
// a time) gets it, and the job says which servers were never attempted: Run Command sends to the
// servers in instance id order here, so the middle one is made to fail.
let system: RunningSystem;
let arn: string;
let first: string;
let middle: string;
let last: string;

beforeAll(async () => {
  system = await aRunningSystem({ env: { SSM_MAX_CONCURRENCY: '1', SSM_MAX_ERRORS: '0' } });
  arn = await anExportableCertificate(system.clients.acm);
  const ids = (await instances(system.clients.ec2, 3, { tags: { env: 'halts' } })).sort();
  [first, middle, last] = ids as [string, string, string];
  await system.clients.ec2.send(
    new CreateTagsCommand({
      Resources: [middle],
      Tags: [{ Key: 'standin:behaviour', Value: 'fail' }],
    }),
  );
});

afterAll(async () => {
  await system?.stop();
});

describe('a rollout stopped by its error threshold', () => {
  it('ends PartiallyFailed, listing the failed server and, apart, the one never attempted', async () => {
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-halted-0001',
      certificateArn: arn,
      certName: 'web',
      target: { key: 'env', value: 'halts' },
    });
    const d = await finished(system, 'it-halted-0001', 90_000);
    expect(d.status, d.reason).toBe('PartiallyFailed');
    expect(d.reason).toMatch(new RegExp(`^installed on 1 of 3 servers; failed: ${middle} Failed`));
    expect(d.reason).toMatch(
      new RegExp(
        `; never attempted on 1 \\(the rollout stopped at its error threshold, SSM_MAX_ERRORS\\): ${last}$`,
      ),
    );
    expect(d.servers.map((s) => [s.instanceId, s.status, s.statusDetails])).toEqual([
      [first, 'Success', 'Success'],
      [middle, 'Failed', 'Failed'],
      [last, 'Cancelled', 'Terminated'],
    ]);
    expect((await installedFile(system, first, 'etc/ssl/certs/web-fullchain.pem')).text).toMatch(
      /^-----BEGIN CERTIFICATE-----/,
    );
    await expect(installedFile(system, last, 'etc/ssl/certs/web-fullchain.pem')).rejects.toThrow(
      /ENOENT/,
    );
  }, 120_000);
});
