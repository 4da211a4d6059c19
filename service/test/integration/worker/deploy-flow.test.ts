import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../../src/domain/secret-value.ts';
import { decodeExportSecret } from '../../../src/worker/export-secret.ts';
import {
  aCertificateAvailableEvent,
  anInstanceStateEvent,
} from '../../support/builders/acm-events.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { drainDeadLetters, enqueue, finished, installedFile, jobsStartedBy } from './helpers.ts';

let system: RunningSystem;
let arn: string;
let devServers: string[];
/** The first job's passphrase, read back from Secrets Manager: it must appear nowhere else. */
let passphrase = '';

/** A v1 deploy job of the test's certificate to the servers tagged env=<value>. */
const aJob = (jobId: string, certName: string, value: string) => ({
  type: 'deploy',
  version: 1,
  jobId,
  certificateArn: arn,
  certName,
  target: { key: 'env', value },
});

beforeAll(async () => {
  system = await aRunningSystem();
  arn = await anExportableCertificate(system.clients.acm);
  devServers = [
    await anInstance(system.clients.ec2, { tags: { env: 'dev' } }),
    await anInstance(system.clients.ec2, { tags: { env: 'dev' } }),
  ];
  await anInstance(system.clients.ec2, { tags: { env: 'dev' }, state: 'stopped' });
});

afterAll(async () => {
  await system?.stop();
});

describe('a deploy job on the queue', () => {
  it('ends with the certificate installed on both servers and the records written', async () => {
    await enqueue(system, aJob('it-deploy-0001', 'web', 'dev'));
    const d = await finished(system, 'it-deploy-0001');
    expect(d.status, d.reason).toBe('Succeeded');
    expect(d.servers.map((s) => s.instanceId).sort()).toEqual([...devServers].sort());
    expect(d.servers.every((s) => s.summary?.outcome === 'installed')).toBe(true);
    expect(d.conditions.map((c) => `${c.type}=${c.status}`)).toEqual([
      'Exported=True',
      'Dispatched=True',
      'Completed=True',
    ]);

    for (const id of devServers) {
      const fullchain = await installedFile(system, id, 'etc/ssl/certs/web-fullchain.pem');
      const chain = await installedFile(system, id, 'etc/ssl/certs/web-chain.pem');
      const key = await installedFile(system, id, 'etc/ssl/private/web-privkey.pem');
      expect([fullchain.mode, chain.mode, key.mode]).toEqual(['644', '644', '600']);
      expect(key.text).toMatch(/-----BEGIN (RSA )?PRIVATE KEY-----/);
      expect(fullchain.text.startsWith('-----BEGIN CERTIFICATE-----')).toBe(true);
    }

    const mapping = await system.ports.mappings.get({
      target: { key: 'env', value: 'dev' },
      certificateArn: arn,
      certName: 'web',
    });
    expect(mapping).toMatchObject({
      lastOutcome: 'Succeeded',
      lastJobId: 'it-deploy-0001',
      serial: d.certificate?.serial,
    });
    expect(mapping?.secretArn).toMatch(/:secret:acm-passphrase\/web-/);
  });

  it('never writes the passphrase or the key to DynamoDB, SSM command parameters or logs', async () => {
    const d = await system.ports.deployments.get('it-deploy-0001');
    const secret = await system.clients.secretsManager.send(
      new GetSecretValueCommand({ SecretId: d?.secretArn, VersionId: d?.secretVersionId }),
    );
    const stored = decodeExportSecret(new SecretValue(secret.SecretString ?? ''), 'the job');
    passphrase = stored.passphrase.reveal();
    expect(passphrase.length).toBeGreaterThanOrEqual(32);
    // A line of the encrypted key's base64 body: found nowhere but in the secret.
    const keyLine = stored.bundle.encryptedPrivateKey.reveal().split('\n')[1] ?? '';
    expect(keyLine.length).toBeGreaterThan(40);
    const tables = await Promise.all(
      [system.provisioned.names.mappingTable, system.provisioned.names.deploymentsTable].map(
        (TableName) => system.clients.dynamodb.send(new ScanCommand({ TableName })),
      ),
    );
    const commands = await system.standIn.ssm.send(new ListCommandsCommand({}));
    const everything = JSON.stringify([tables, commands.Commands, system.logLines]);
    expect(everything).not.toContain(passphrase);
    expect(everything).not.toMatch(/PRIVATE KEY/);
    expect(everything).not.toContain(keyLine);
    // Parameters are base64: look at them decoded too.
    const decoded = (commands.Commands ?? [])
      .flatMap((c) => Object.values(c.Parameters ?? {}).flat())
      .map((v) => Buffer.from(v, 'base64').toString('latin1'))
      .join('\n');
    expect(decoded).not.toMatch(/PRIVATE KEY/);
    expect(decoded).not.toContain(passphrase);
  });

  it('makes one deployment from the same job sent twice', async () => {
    const job = aJob('it-dup-00001', 'dup', 'dev');
    await enqueue(system, job);
    await enqueue(system, job);
    const d = await finished(system, 'it-dup-00001');
    expect(d.status).toBe('Succeeded');
    const commands = await system.standIn.ssm.send(new ListCommandsCommand({}));
    expect(
      (commands.Commands ?? []).filter((c) => c.Comment?.endsWith('it-dup-00001')),
    ).toHaveLength(1);
  });

  it('ends NoTargets, not a loop, when no server carries the tag', async () => {
    await enqueue(system, aJob('it-none-0001', 'web', 'nowhere'));
    const d = await finished(system, 'it-none-0001');
    expect(d.status).toBe('NoTargets');
    expect(d.reason).toMatch(/env=nowhere/);
  });

  it('ends PartiallyFailed when one server fails, naming it', async () => {
    const ok = await anInstance(system.clients.ec2, { tags: { env: 'mixed' } });
    const bad = await anInstance(system.clients.ec2, {
      tags: { env: 'mixed', 'standin:behaviour': 'fail' },
    });
    await enqueue(system, aJob('it-mixed-001', 'web', 'mixed'));
    const d = await finished(system, 'it-mixed-001');
    expect(d.status).toBe('PartiallyFailed');
    expect(d.reason).toContain(bad);
    expect(d.servers.find((s) => s.instanceId === ok)?.status).toBe('Success');
  });

  it('installs the mapped certificates on a server started after the deployment, on it alone', async () => {
    const late = await anInstance(system.clients.ec2, { tags: { env: 'dev' } });
    await enqueue(system, anInstanceStateEvent({ instanceId: late }));
    const jobs = await jobsStartedBy(system, arn, 'instance', 2);
    // env=dev has two mappings so far: web and dup.
    const done = await Promise.all(jobs.map((id) => finished(system, id)));
    expect(done.map((d) => [d.job.certName, d.status]).sort()).toEqual([
      ['dup', 'Succeeded'],
      ['web', 'Succeeded'],
    ]);
    for (const d of done) expect(d.servers.map((x) => x.instanceId)).toEqual([late]);
    const key = await installedFile(system, late, 'etc/ssl/private/web-privkey.pem');
    expect(key.mode).toBe('600');
  });

  it('runs a renewal event through EventBridge to a new deployment of every mapping', async () => {
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
    const renewals = await jobsStartedBy(system, arn, 'renewal', 4);
    // Mappings: web@dev, dup@dev, web@nowhere (NoTargets keeps the mapping), web@mixed.
    // (Jobs for the server started above are trigger "instance", not counted here.)
    expect(renewals).toHaveLength(4);
    const done = await Promise.all(renewals.map((id) => finished(system, id)));
    const dev = done.find((x) => x.job.certName === 'web' && x.job.target.value === 'dev');
    expect(dev?.status).toBe('Succeeded');
    // ACM did not renew (this event was put by the test): the servers hold the same certificate.
    const installedSerial = (await system.ports.deployments.get('it-deploy-0001'))?.certificate
      ?.serial;
    expect(dev?.servers.map((s) => s.summary?.serial?.toLowerCase())).toEqual(
      dev?.servers.map(() => installedSerial),
    );
    expect(dev?.servers.map((s) => s.instanceId)).toEqual(expect.arrayContaining(devServers));
  });

  it.each([
    ['not JSON', 'this is not json', /not JSON/],
    ['an unknown type', { type: 'reboot', version: 1 }, /unknown message type/],
    ['an unknown version', { type: 'deploy', version: 9 }, /unknown version 9/],
    [
      'a hostile name',
      {
        CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x',
        CertName: '../../etc/cron.d/x',
        TargetTagKey: 'env',
        TargetTagValue: 'dev',
      },
      /CertName/,
    ],
    [
      'shell metacharacters',
      {
        type: 'deploy',
        version: 1,
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x',
        certName: 'web$(reboot)',
        target: { key: 'env', value: 'dev' },
      },
      /certName/,
    ],
  ])('moves %s to the dead-letter queue with the reason', async (_, body, reason) => {
    const marker = typeof body === 'string' ? body : JSON.stringify(body);
    await enqueue(system, body);
    const letters = await drainDeadLetters(system, 1);
    const mine = letters.find((l) => l.body === marker);
    expect(mine, JSON.stringify(letters)).toBeDefined();
    expect(mine?.reason).toMatch(reason);
    expect(passphrase).not.toBe('');
    expect(JSON.stringify(letters)).not.toContain(passphrase);
  });
});
