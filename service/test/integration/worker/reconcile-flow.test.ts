import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aHybridNode } from '../../../../local/test/support/stand-in.ts';
import { sameSerial } from '../../../src/worker/certificate-info.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import {
  enqueue,
  type FinishedJob,
  finished,
  installedFile,
  jobsStartedBy,
  renewWithoutEvent,
  serialOf,
} from './helpers.ts';

// The reconciliation sweep on stand-in servers running the real install script: whatever events
// were missed, every online server with a mapping's tag ends up holding ACM's current certificate.
let system: RunningSystem;
let arn: string;
let first: string;
const target = { key: 'env', value: 'sweep' };
const fullchain = 'etc/ssl/certs/sweep-fullchain.pem';
const key = 'etc/ssl/private/sweep-privkey.pem';

function reconcile(sweepId: string, verify = false) {
  return enqueue(system, {
    type: 'reconcile-mapping',
    version: 1,
    sweepId,
    certificateArn: arn,
    certName: 'sweep',
    target,
    ...(verify ? { verify: true } : {}),
  });
}

/** The jobs a sweep started beyond the `known` ones, each to its end. */
async function sweepJobs(known: number, count: number): Promise<FinishedJob[]> {
  const ids = await jobsStartedBy(system, arn, 'reconcile', known + count, 60_000);
  expect(ids.length, 'the sweep queued no job').toBeGreaterThanOrEqual(known + count);
  // listByCertificate is newest first.
  return Promise.all(ids.slice(0, count).map((id) => finished(system, id, 90_000)));
}

beforeAll(async () => {
  system = await aRunningSystem();
  arn = await anExportableCertificate(system.clients.acm);
  first = await anInstance(system.clients.ec2, { tags: { env: 'sweep' } });
  await enqueue(system, {
    type: 'deploy',
    version: 1,
    jobId: 'it-sweep-first',
    certificateArn: arn,
    certName: 'sweep',
    target,
  });
  expect((await finished(system, 'it-sweep-first')).status).toBe('Succeeded');
});

afterAll(async () => {
  await system?.stop();
});

describe('the reconciliation sweep on stand-in servers', () => {
  it('changes nothing where every server holds the current certificate', async () => {
    await reconcile('it-sweep-noop');
    // Its one line says what it found (however long a busy machine takes to get there)…
    const deadline = Date.now() + 30_000;
    while (!/reconcile: all 1 online servers hold serial/.test(system.logLines.join(''))) {
      if (Date.now() > deadline) throw new Error('the mapping was not reconciled');
      await new Promise((r) => setTimeout(r, 200));
    }
    // …and it queued nothing: no job of the sweep's exists.
    expect(await jobsStartedBy(system, arn, 'reconcile', 1, 1_000)).toEqual([]);
  });

  it('installs on servers tagged or started after the deployment, on them alone', async () => {
    const later = await anInstance(system.clients.ec2, { tags: { role: 'web' } });
    await system.clients.ec2.send(
      new CreateTagsCommand({ Resources: [later], Tags: [{ Key: 'env', Value: 'sweep' }] }),
    );
    // Started with the tag, its EC2 event never delivered (the bed sends none by itself).
    const started = await anInstance(system.clients.ec2, { tags: { env: 'sweep' } });
    await reconcile('it-sweep-tagged');
    const [job] = await sweepJobs(0, 1);
    expect(job?.status, job?.reason).toBe('Succeeded');
    expect(job?.job.instanceIds).toEqual([later, started].sort());
    expect(job?.servers.map((s) => s.instanceId).sort()).toEqual([later, started].sort());
    expect((await installedFile(system, later, key)).mode).toBe('600');
    expect((await installedFile(system, started, key)).mode).toBe('600');
    // It reused the export the first server holds: one secret version, one export.
    const firstJob = await system.ports.deployments.get('it-sweep-first');
    expect(job?.secretVersionId).toBe(firstJob?.secretVersionId);
  });

  it('deploys a renewal whose event was dropped on purpose', async () => {
    const renewed = await renewWithoutEvent(system, arn);
    expect(await jobsStartedBy(system, arn, 'renewal', 1, 2_000)).toEqual([]);
    await reconcile('it-sweep-renewal');
    const [job] = await sweepJobs(1, 1);
    expect(job?.status, job?.reason).toBe('Succeeded');
    expect(job?.job.instanceIds).toBeUndefined();
    expect(job?.servers).toHaveLength(3);
    for (const s of job?.servers ?? []) {
      const installed = serialOf((await installedFile(system, s.instanceId, fullchain)).text);
      expect(sameSerial(installed, renewed)).toBe(true);
    }
    const held = await system.ports.servers.installed({
      target,
      certificateArn: arn,
      certName: 'sweep',
    });
    expect(held.every((s) => s.serial !== undefined && sameSerial(s.serial, renewed))).toBe(true);
  });

  it('finds a deleted key with Verify and repairs it', async () => {
    const root = join(system.standIn.stateDir, 'servers', first);
    await unlink(join(root, key));
    await reconcile('it-sweep-verify', true);
    const [verify] = await sweepJobs(2, 1);
    expect(verify?.job.mode).toBe('verify');
    expect(verify?.status, verify?.reason).toBe('Succeeded');
    expect(verify?.reason).toMatch(
      new RegExp(`files drifted on 1, repair queued: ${first} \\(key-missing`),
    );
    const drift = verify?.servers.find((s) => s.instanceId === first);
    expect(drift?.summary?.outcome).toBe('drift');
    expect(drift?.summary?.problems).toContain('key-missing');
    // The repair is an install on that server alone; afterwards the key is back, mode 600.
    const [repair] = await sweepJobs(3, 1);
    expect(repair?.job.instanceIds).toEqual([first]);
    expect(repair?.status, repair?.reason).toBe('Succeeded');
    expect((await installedFile(system, first, key)).mode).toBe('600');
    const held = await system.ports.servers.installed({
      target,
      certificateArn: arn,
      certName: 'sweep',
    });
    expect(held.find((s) => s.instanceId === first)?.problems).toBeUndefined();
  });

  it('installs on an on-premises (mi-) node that carries the tag, which sends no EC2 event', async () => {
    // Registered with a hybrid activation whose tags it takes; its role carries the target tag,
    // so the ABAC rule lets it read the passphrase (evaluated by the bed as that role).
    const onPremises = await aHybridNode(system.standIn, {
      tags: { env: 'sweep' },
      roleTags: { env: 'sweep' },
    });
    expect(onPremises).toMatch(/^mi-[0-9a-f]{17}$/);
    await reconcile('it-sweep-hybrid');
    const [job] = await sweepJobs(4, 1);
    expect(job?.status, job?.reason).toBe('Succeeded');
    expect(job?.job.instanceIds).toEqual([onPremises]);
    expect(job?.servers.map((s) => [s.instanceId, s.summary?.outcome])).toEqual([
      [onPremises, 'installed'],
    ]);
    expect((await installedFile(system, onPremises, key)).mode).toBe('600');
    const { Certificate } = await system.clients.acm.send(
      new DescribeCertificateCommand({ CertificateArn: arn }),
    );
    const installed = serialOf((await installedFile(system, onPremises, fullchain)).text);
    expect(sameSerial(installed, Certificate?.Serial ?? '')).toBe(true);
  });

  it('releases a mapping lock whose job is gone', async () => {
    const mappingKey = { target, certificateArn: arn, certName: 'sweep' };
    const now = new Date();
    await system.ports.mappings.acquireLock(
      mappingKey,
      'it-sweep-lost-job',
      new Date(now.getTime() + 3_600_000),
      now,
    );
    await reconcile('it-sweep-lock');
    const deadline = Date.now() + 30_000;
    while ((await system.ports.mappings.get(mappingKey))?.lock !== undefined) {
      if (Date.now() > deadline) throw new Error('the sweep did not release the lock');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(system.logLines.join('')).toMatch(/released the lock of a job that is gone/);
  });
});
