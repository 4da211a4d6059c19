import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectCombinedOf,
  expectP12Of,
  keytool,
  keytoolList,
} from '../../../../ssm/test/support/formats.ts';
import { SecretValue } from '../../../src/domain/secret-value.ts';
import { decodeExportSecret } from '../../../src/worker/export-secret.ts';
import { aCertificateAvailableEvent } from '../../support/builders/acm-events.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished, installedFile, jobsStartedBy } from './helpers.ts';

/**
 * The output formats end to end: a deploy job asking for them, the worker's export and its
 * secret version (with the PKCS#12 password), the real install document on the stand-in
 * servers, and a renewal that keeps them and the password.
 */

let system: RunningSystem;
let arn: string;
let servers: string[];
let dir: string;
const target = { key: 'env', value: 'formats' };
const key = () => ({ target, certificateArn: arn, certName: 'shop' });

async function secretOf(jobId: string) {
  const d = await system.ports.deployments.get(jobId);
  const out = await system.clients.secretsManager.send(
    new GetSecretValueCommand({ SecretId: d?.secretArn, VersionId: d?.secretVersionId }),
  );
  return decodeExportSecret(new SecretValue(out.SecretString ?? ''), jobId);
}

beforeAll(async () => {
  system = await aRunningSystem();
  arn = await anExportableCertificate(system.clients.acm);
  servers = [
    await anInstance(system.clients.ec2, { tags: { env: 'formats' } }),
    await anInstance(system.clients.ec2, { tags: { env: 'formats' } }),
  ];
  dir = await mkdtemp(join(tmpdir(), 'formats-flow-'));
});

afterAll(async () => {
  await system?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('a deployment asking for the combined and PKCS#12 formats', () => {
  it('installs them on every server, the .p12 opening with the password of the mapping’s secret', async () => {
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-formats-01',
      certificateArn: arn,
      certName: 'shop',
      target,
      install: { formats: ['combined', 'pkcs12'] },
    });
    const d = await finished(system, 'it-formats-01');
    expect(d.status, d.reason).toBe('Succeeded');
    const secret = await secretOf('it-formats-01');
    const password = secret.pkcs12Password?.reveal() ?? '';
    expect(password).toMatch(/^[A-Za-z0-9]{40}$/);
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, password, { mode: 0o600 });
    const leaf = { certificate: secret.bundle.certificate, chain: secret.bundle.chain };
    for (const id of servers) {
      const root = join(system.standIn.stateDir, 'servers', id);
      expect((await installedFile(system, id, 'etc/ssl/private/shop-combined.pem')).mode).toBe(
        '600',
      );
      expect((await installedFile(system, id, 'etc/ssl/private/shop.p12')).mode).toBe('600');
      await expectCombinedOf(join(root, 'etc/ssl/private/shop-combined.pem'), leaf);
      await expectP12Of(
        join(root, 'etc/ssl/private/shop.p12'),
        passwordFile,
        leaf,
        'modern',
        'shop',
      );
      if (keytool !== undefined) {
        expect(await keytoolList(join(root, 'etc/ssl/private/shop.p12'), passwordFile)).toMatch(
          /Alias name: shop\b[\s\S]*Entry type: PrivateKeyEntry/,
        );
      }
    }
    const mapping = await system.ports.mappings.get(key());
    expect(mapping?.install).toEqual({ formats: ['combined', 'pkcs12'] });

    // Never anywhere but in the secret: tables, commands' parameters, logs.
    const tables = await Promise.all(
      [system.provisioned.names.mappingTable, system.provisioned.names.deploymentsTable].map(
        (TableName) => system.clients.dynamodb.send(new ScanCommand({ TableName })),
      ),
    );
    const commands = await system.standIn.ssm.send(new ListCommandsCommand({}));
    const mine = (commands.Commands ?? []).filter((c) => c.Comment?.endsWith('it-formats-01'));
    expect(mine.map((c) => c.Parameters?.Formats)).toEqual([['combined,pkcs12']]);
    const decoded = (commands.Commands ?? [])
      .flatMap((c) => Object.values(c.Parameters ?? {}).flat())
      .map((v) => Buffer.from(v, 'base64').toString('latin1'));
    const everything = JSON.stringify([tables, commands.Commands, decoded, system.logLines]);
    expect(everything).not.toContain(password);
  });

  it('a renewal keeps the formats and the password: the servers’ files stay as they are', async () => {
    const event = aCertificateAvailableEvent({
      certificateArn: arn,
      action: 'RENEWAL',
      source: 'test.acm',
    });
    await system.clients.eventbridge.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: event.source,
            DetailType: event['detail-type'],
            Detail: JSON.stringify(event.detail),
            Resources: event.resources,
          },
        ],
      }),
    );
    const [renewal] = await jobsStartedBy(system, arn, 'renewal', 1);
    const d = await finished(system, renewal as string);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(d.job.install).toEqual({ formats: ['combined', 'pkcs12'] });
    const first = await secretOf('it-formats-01');
    const again = await secretOf(renewal as string);
    // A new export (new passphrase, new version), the same PKCS#12 password.
    expect(again.passphrase.reveal()).not.toBe(first.passphrase.reveal());
    expect(again.pkcs12Password?.reveal()).toBe(first.pkcs12Password?.reveal());
    // ACM did not renew (the test put the event): the same certificate, and a .p12 that still
    // opens with the password is left alone.
    expect(d.servers.map((s) => s.summary?.outcome)).toEqual(['unchanged', 'unchanged']);
  });
});
