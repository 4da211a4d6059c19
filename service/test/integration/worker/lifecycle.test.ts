import { DescribeCertificateCommand, RenewCertificateCommand } from '@aws-sdk/client-acm';
import {
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.ts';
import { buildApiDependencies } from '../../../src/composition.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { sameSerial } from '../../../src/worker/certificate-info.ts';
import { anInstanceStateEvent } from '../../support/builders/acm-events.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished, installedFile, jobsStartedBy, serialOf } from './helpers.ts';

let system: RunningSystem;

const aJob = (jobId: string, certificateArn: string, certName: string, value: string) => ({
  type: 'deploy',
  version: 1,
  jobId,
  certificateArn,
  certName,
  target: { key: 'env', value },
});

/** ACM's serial of the certificate now, as DescribeCertificate writes it (`0a:1b:…`). */
async function acmSerial(arn: string): Promise<string> {
  const { Certificate } = await system.clients.acm.send(
    new DescribeCertificateCommand({ CertificateArn: arn }),
  );
  expect(Certificate?.Serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
  return Certificate?.Serial ?? '';
}

beforeAll(async () => {
  system = await aRunningSystem();
});

afterAll(async () => {
  await system?.stop();
});

describe('a renewal, as ACM does it', () => {
  it('replaces the installed certificate with the new serial on every mapped server, from a new secret version', async () => {
    const arn = await anExportableCertificate(system.clients.acm);
    const servers = [
      await anInstance(system.clients.ec2, { tags: { env: 'renew' } }),
      await anInstance(system.clients.ec2, { tags: { env: 'renew' } }),
    ];
    await enqueue(system, aJob('it-renew-first', arn, 'shop', 'renew'));
    const first = await finished(system, 'it-renew-first');
    expect(first.status, first.reason).toBe('Succeeded');
    const before = await acmSerial(arn);
    expect(sameSerial(first.certificate?.serial ?? '', before)).toBe(true);

    // ACM renews under the same ARN and publishes ACM Certificate Available / RENEWAL, which the
    // provisioned rule sends to the job queue.
    await system.clients.acm.send(new RenewCertificateCommand({ CertificateArn: arn }));
    const after = await acmSerial(arn);
    expect(sameSerial(after, before)).toBe(false);
    const [renewalJob] = await jobsStartedBy(system, arn, 'renewal', 1, 60_000);
    expect(renewalJob, 'no renewal job started from the event').toBeDefined();
    const renewal = await finished(system, renewalJob as string, 60_000);
    expect(renewal.status, renewal.reason).toBe('Succeeded');
    expect(sameSerial(renewal.certificate?.serial ?? '', after)).toBe(true);
    expect(renewal.secretArn).toBe(first.secretArn);
    expect(renewal.secretVersionId).not.toBe(first.secretVersionId);

    for (const id of servers) {
      const fullchain = await installedFile(system, id, 'etc/ssl/certs/shop-fullchain.pem');
      expect(sameSerial(serialOf(fullchain.text), after), id).toBe(true);
    }
    const versions = await system.clients.secretsManager.send(
      new ListSecretVersionIdsCommand({ SecretId: renewal.secretArn }),
    );
    expect((versions.Versions ?? []).map((v) => v.VersionId)).toEqual(
      expect.arrayContaining([first.secretVersionId, renewal.secretVersionId]),
    );
    const mapping = await system.ports.mappings.get({
      target: { key: 'env', value: 'renew' },
      certificateArn: arn,
      certName: 'shop',
    });
    expect(mapping).toMatchObject({
      serial: renewal.certificate?.serial,
      secretVersionId: renewal.secretVersionId,
    });
  });
});

describe('a target managed again after stop-managing', () => {
  it('restores its secret (scheduled for deletion) and deploys', async () => {
    const arn = await anExportableCertificate(system.clients.acm);
    await anInstance(system.clients.ec2, { tags: { env: 'again' } });
    await enqueue(system, aJob('it-again-first', arn, 'again', 'again'));
    const first = await finished(system, 'it-again-first');
    expect(first.status, first.reason).toBe('Succeeded');

    // Stop managing through the API, as an operator would.
    const api = buildApp(buildApiDependencies(system.config, system.ports, createLogger('silent')));
    const stop = await api.inject({
      method: 'DELETE',
      url: `/v1/certificates/${encodeURIComponent(arn)}/targets/env/again/again`,
    });
    expect(stop.statusCode, stop.body).toBe(200);
    await api.close();
    const deleted = await system.clients.secretsManager.send(
      new DescribeSecretCommand({ SecretId: first.secretArn }),
    );
    expect(deleted.DeletedDate).toBeInstanceOf(Date);

    await enqueue(system, aJob('it-again-second', arn, 'again', 'again'));
    const second = await finished(system, 'it-again-second');
    expect(second.status, second.reason).toBe('Succeeded');
    expect(second.secretArn).toBe(first.secretArn);
    const restored = await system.clients.secretsManager.send(
      new DescribeSecretCommand({ SecretId: first.secretArn }),
    );
    expect(restored.DeletedDate).toBeUndefined();
  });
});

describe('servers as Run Command sees them', () => {
  it('names the minimum agent version for a server whose agent is too old, and installs on the rest', async () => {
    const arn = await anExportableCertificate(system.clients.acm);
    const current = await anInstance(system.clients.ec2, { tags: { env: 'agents' } });
    const old = await anInstance(system.clients.ec2, {
      tags: { env: 'agents', 'standin:agent-version': '3.2.1297.0' },
    });
    await enqueue(system, aJob('it-agents-001', arn, 'agents', 'agents'));
    const d = await finished(system, 'it-agents-001');
    expect(d.status, d.reason).toBe('PartiallyFailed');
    expect(d.reason).toContain(old);
    expect(d.reason).toMatch(/exit 17: the SSM Agent is older than 3\.3\.2746\.0/);
    expect(d.reason).not.toMatch(/bad parameters/);
    expect(d.servers.find((s) => s.instanceId === current)?.status).toBe('Success');
  });

  it('installs on a server whose agent registers a while after it starts, waiting instead of failing', async () => {
    const arn = await anExportableCertificate(system.clients.acm);
    await anInstance(system.clients.ec2, { tags: { env: 'late' } });
    await enqueue(system, aJob('it-late-first', arn, 'late', 'late'));
    expect((await finished(system, 'it-late-first')).status).toBe('Succeeded');

    const late = await anInstance(system.clients.ec2, {
      tags: { env: 'late', 'standin:agent-registers-after-ms': '4000' },
    });
    await enqueue(system, JSON.stringify(anInstanceStateEvent({ instanceId: late })));
    const [jobId] = await jobsStartedBy(system, arn, 'instance', 1, 30_000);
    const d = await finished(system, jobId as string, 60_000);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(d.servers.map((s) => s.instanceId)).toEqual([late]);
    expect(d.attempts).toBeGreaterThan(1);
    // Reused the export the first server got: no new secret version for a server that started.
    const first = await system.ports.deployments.get('it-late-first');
    expect(d.secretVersionId).toBe(first?.secretVersionId);
    const fullchain = await installedFile(system, late, 'etc/ssl/certs/late-fullchain.pem');
    expect(serialOf(fullchain.text)).toBe(first?.certificate?.serial);
  });
});
