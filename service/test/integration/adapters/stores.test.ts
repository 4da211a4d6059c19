import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../../../../local/provision.ts';
import { DynamoDbDeploymentStore } from '../../../src/adapters/dynamodb-deployment-store.ts';
import { DynamoDbMappingStore } from '../../../src/adapters/dynamodb-mapping-store.ts';
import { SecretsManagerSecretStore } from '../../../src/adapters/secrets-manager-secret-store.ts';
import { newDeployment, revise } from '../../../src/domain/deployment-record.ts';
import { ConflictError, TerminalError } from '../../../src/domain/errors.ts';
import { SecretValue } from '../../../src/domain/secret-value.ts';
import { testClients } from '../../support/aws.ts';

const c = testClients();
const mappings = new DynamoDbMappingStore(c.dynamodb, 'CertTagMapping');
const deployments = new DynamoDbDeploymentStore(c.dynamodb, 'CertDeployments');
const secrets = new SecretsManagerSecretStore(c.secretsManager);
const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const key = { target: { key: 'env', value: 'dev' }, certificateArn: arn, certName: 'web' };
const t0 = new Date('2026-11-27T00:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

beforeAll(async () => {
  await provision({ dynamodb: c.dynamodbRaw, sqs: c.sqs, eventbridge: c.eventbridge, ssm: c.ssm });
});

describe('the mapping store on DynamoDB', () => {
  it('lets one job at a time hold a mapping, re-entrant, taken over only after expiry', async () => {
    expect(await mappings.acquireLock(key, 'job-a', at(600), at(0))).toMatchObject({
      acquired: true,
      mapping: { certName: 'web', target: key.target, install: {} },
    });
    expect(await mappings.acquireLock(key, 'job-a', at(600), at(1))).toMatchObject({
      acquired: true,
    });
    expect(await mappings.acquireLock(key, 'job-b', at(600), at(2))).toMatchObject({
      acquired: false,
      holder: 'job-a',
    });
    const install = { keyMode: '640', group: 'haproxy' };
    expect(await mappings.acquireLock(key, 'job-b', at(1200), at(601), install)).toMatchObject({
      acquired: true,
      mapping: { install },
    });
    // A job without options keeps the mapping's (a renewal installs the way it was asked).
    expect(await mappings.acquireLock(key, 'job-b', at(1200), at(602), {})).toMatchObject({
      mapping: { install },
    });
  });

  it('records an outcome only for the job holding the lock, in the same write that releases it', async () => {
    expect(
      await mappings.releaseLock(key, 'job-a', { lastOutcome: 'Succeeded', serial: 'aa' }),
    ).toBe(false);
    expect(
      await mappings.releaseLock(key, 'job-b', {
        lastOutcome: 'Succeeded',
        serial: 'bb',
        notAfter: '2027-01-01T00:00:00.000Z',
        lastJobId: 'job-b',
      }),
    ).toBe(true);
    const m = await mappings.get(key);
    expect(m).toMatchObject({
      serial: 'bb',
      lastOutcome: 'Succeeded',
      lastJobId: 'job-b',
      certName: 'web',
      target: key.target,
    });
    const raw = await c.dynamodb.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
        TableName: 'CertTagMapping',
        Key: { TagKeyValue: 'env#dev', 'CertificateArn#CertName': `${arn}#web` },
      }),
    );
    // The original sample's keys and attribute names, and no lock left behind.
    expect(raw.Item).toMatchObject({
      CertExpiryDate: '2027-01-01T00:00:00.000Z',
      CertificateArn: arn,
    });
    expect(raw.Item?.LockJobId).toBeUndefined();
  });

  it('keeps a halted rollout on the mapping until a later job empties it', async () => {
    // A certificate of its own: the index tests below count this one's mappings.
    const k = { ...key, certificateArn: arn.replace(/5555$/, '6666'), certName: 'halted' };
    await mappings.acquireLock(k, 'job-h1', at(600), at(0));
    await mappings.releaseLock(k, 'job-h1', { rolloutHalted: 'deployment job-h1 was cancelled' });
    expect((await mappings.get(k))?.rolloutHalted).toBe('deployment job-h1 was cancelled');
    await mappings.acquireLock(k, 'job-h2', at(600), at(1));
    await mappings.releaseLock(k, 'job-h2', { rolloutHalted: '' });
    expect((await mappings.get(k))?.rolloutHalted).toBeUndefined();
  });

  it('keeps the server count a job’s end records, and returns it with the lock', async () => {
    const k = { ...key, certificateArn: arn.replace(/5555$/, '7777'), certName: 'counted' };
    await mappings.acquireLock(k, 'job-c1', at(600), at(0));
    await mappings.releaseLock(k, 'job-c1', { serverCount: 3 });
    expect(await mappings.acquireLock(k, 'job-c2', at(600), at(1))).toMatchObject({
      acquired: true,
      mapping: { serverCount: 3 },
    });
  });

  it('finds every mapping of a certificate through the index', async () => {
    const prod = { ...key, target: { key: 'env', value: 'prod' } };
    await mappings.acquireLock(prod, 'job-p', at(600), at(0));
    await mappings.releaseLock(prod, 'job-p', { lastOutcome: 'NoTargets' });
    const found = await mappings.listByCertificate(arn);
    expect(found.map((m) => m.target.value).sort()).toEqual(['dev', 'prod']);
    // ...and every mapping of one target through its partition (a server that started).
    expect(
      (await mappings.listByTarget({ key: 'env', value: 'prod' })).map((m) => m.certName),
    ).toEqual(['web']);
    expect(await mappings.listByTarget({ key: 'env', value: 'staging' })).toEqual([]);
  });

  it('abandons only a mapping that never had a successful install', async () => {
    const fresh = { ...key, certName: 'never' };
    await mappings.acquireLock(fresh, 'job-x', at(600), at(0));
    expect(await mappings.abandon(fresh, 'job-x')).toBe(true);
    expect(await mappings.get(fresh)).toBeUndefined();
    await mappings.acquireLock(key, 'job-y', at(600), at(0));
    expect(await mappings.abandon(key, 'job-y')).toBe(false);
    expect(await mappings.get(key)).toBeDefined();
  });
  it('deletes a mapping only while no job holds it (stop-managing)', async () => {
    const k = { ...key, certName: 'stop' };
    expect(await mappings.deleteUnlocked(k, at(0))).toEqual({ outcome: 'missing' });
    await mappings.acquireLock(k, 'job-s', at(600), at(0));
    expect(await mappings.get(k)).toMatchObject({ lock: { jobId: 'job-s' } });
    expect(await mappings.deleteUnlocked(k, at(10))).toEqual({
      outcome: 'busy',
      holder: 'job-s',
      until: at(600).toISOString(),
    });
    expect(await mappings.get(k)).toBeDefined();
    // A lease that has ended is a job that is gone: the mapping goes.
    expect(await mappings.deleteUnlocked(k, at(601))).toMatchObject({
      outcome: 'deleted',
      mapping: { certName: 'stop' },
    });
    expect(await mappings.get(k)).toBeUndefined();
    await mappings.acquireLock(k, 'job-t', at(2000), at(1000));
    await mappings.releaseLock(k, 'job-t', { lastOutcome: 'Succeeded' });
    expect((await mappings.get(k))?.lock).toBeUndefined();
    expect((await mappings.deleteUnlocked(k, at(1001))).outcome).toBe('deleted');
  });
});

describe('the deployment store on DynamoDB', () => {
  it('creates once, saves only on the version read, lists newest first by certificate', async () => {
    const job = {
      jobId: 'job-store-1',
      certificateArn: arn,
      certName: 'web',
      target: key.target,
      install: {},
      trigger: 'queue' as const,
    };
    const d = newDeployment(job, t0);
    expect((await deployments.create(d)).created).toBe(true);
    expect((await deployments.create(d)).created).toBe(false);
    const next = await deployments.save(revise(d, { status: 'Exporting' }, at(1)));
    await expect(deployments.save(revise(d, { status: 'Failed' }, at(2)))).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await deployments.get('job-store-1'))?.status).toBe('Exporting');
    await deployments.create(newDeployment({ ...job, jobId: 'job-store-2' }, at(10)));
    const page = await deployments.listByCertificate(arn, 1);
    expect(page.items.map((x) => x.job.jobId)).toEqual(['job-store-2']);
    // The index holds keys only: the records come whole from the table.
    expect(page.items[0]).toMatchObject({ status: 'Queued', version: 1, attempts: 0 });
    const rest = await deployments.listByCertificate(arn, 5, page.cursor);
    expect(rest.items.map((x) => x.job.jobId)).toEqual(['job-store-1']);
    expect(next.version).toBe(2);
    await expect(deployments.listByCertificate(arn, 5, 'not-a-cursor')).rejects.toMatchObject({
      code: 'InvalidCursor',
    });
  });

  it('writes only the fields that changed, removes those gone, and reads back the whole record', async () => {
    const job = {
      jobId: 'job-store-3',
      certificateArn: arn,
      certName: 'web',
      target: key.target,
      install: {},
      trigger: 'queue' as const,
    };
    const d = newDeployment(job, t0);
    await deployments.create(d);
    const picked = revise(
      d,
      {
        attempts: 1,
        activeAttempt: { messageId: 'm1', receiveCount: 1, startedAt: t0.toISOString() },
      },
      at(1),
    );
    await deployments.save(picked, d);
    const running = revise(
      picked,
      { status: 'Running', commandId: 'cmd-1', activeAttempt: undefined },
      at(2),
    );
    await deployments.save(running, picked);
    const stored = await c.dynamodb.send(
      new GetCommand({ TableName: 'CertDeployments', Key: { JobId: 'job-store-3' } }),
    );
    expect(stored.Item).toMatchObject({ Status: 'Running', Version: 3 });
    expect(stored.Item?.Data).toEqual(JSON.parse(JSON.stringify(running)));
    expect(stored.Item?.Data.activeAttempt).toBeUndefined();
    // Conditional on the version either way: a stale writer loses.
    await expect(
      deployments.save(revise(picked, { status: 'Failed' }, at(3)), picked),
    ).rejects.toBeInstanceOf(ConflictError);
    // Without the version it revises, the whole record (a terminal one gets its TTL).
    const done = revise(running, { status: 'Succeeded', finishedAt: at(4).toISOString() }, at(4));
    await deployments.save(done);
    const after = await c.dynamodb.send(
      new GetCommand({ TableName: 'CertDeployments', Key: { JobId: 'job-store-3' } }),
    );
    expect(after.Item?.Data).toEqual(JSON.parse(JSON.stringify(done)));
    expect(after.Item?.ExpiresAt).toBeGreaterThan(at(4).getTime() / 1000);
  });
});

describe('the secret store on Secrets Manager', () => {
  it('stores one version per token, idempotently, tagged for ABAC, and reads it back by version', async () => {
    const tags = { env: 'dev', 'acm-cert-export:cert-name': 'web' };
    const token = '0a1b2c3d-0000-4000-8000-000000000001';
    const first = await secrets.putNewVersion({
      name: 'acm-passphrase/web-test',
      tags,
      value: new SecretValue('first-passphrase'),
      token,
    });
    const replay = await secrets.putNewVersion({
      name: 'acm-passphrase/web-test',
      tags,
      value: new SecretValue('first-passphrase'),
      token,
    });
    expect(replay).toEqual(first);
    expect(first.versionId).toBe(token);
    const second = await secrets.putNewVersion({
      name: 'acm-passphrase/web-test',
      tags,
      value: new SecretValue('second-passphrase'),
      token: '0a1b2c3d-0000-4000-8000-000000000002',
    });
    expect(second.secretArn).toBe(first.secretArn);
    expect((await secrets.getVersion(first.secretArn, first.versionId)).value.reveal()).toBe(
      'first-passphrase',
    );
    expect(
      (await secrets.getVersion('acm-passphrase/web-test', second.versionId)).value.reveal(),
    ).toBe('second-passphrase');
    const described = await c.secretsManager.send(
      new DescribeSecretCommand({ SecretId: first.secretArn }),
    );
    expect(Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject(
      tags,
    );
  });

  it('creates a missing secret first when told it is likely missing, and falls back when it exists', async () => {
    const tags = { env: 'dev' };
    const first = await secrets.putNewVersion({
      name: 'acm-passphrase/web-create-first',
      tags,
      value: new SecretValue('one'),
      token: '0a1b2c3d-0000-4000-8000-000000000011',
      likelyMissing: true,
    });
    // Told wrongly: the secret exists, so the version goes in with PutSecretValue.
    const second = await secrets.putNewVersion({
      name: 'acm-passphrase/web-create-first',
      tags,
      value: new SecretValue('two'),
      token: '0a1b2c3d-0000-4000-8000-000000000012',
      likelyMissing: true,
    });
    expect(second.secretArn).toBe(first.secretArn);
    expect(second.versionId).toBe('0a1b2c3d-0000-4000-8000-000000000012');
    expect((await secrets.getVersion(first.secretArn, first.versionId)).value.reveal()).toBe('one');
    expect((await secrets.getVersion(first.secretArn, second.versionId)).value.reveal()).toBe(
      'two',
    );
    expect(await secrets.scheduleDeletion('acm-passphrase/web-create-first', 7)).toBe(true);
    expect(await secrets.scheduleDeletion('acm-passphrase/web-create-first', 7)).toBe(true);
    expect(await secrets.scheduleDeletion('acm-passphrase/never-created', 7)).toBe(false);
  });

  it('reports a missing version as SecretVersionNotFound (terminal), not as a retryable error', async () => {
    const error = await secrets
      .getVersion('acm-passphrase/nope', '0a1b2c3d-0000-4000-8000-00000000dead')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TerminalError);
    expect(error).toMatchObject({ code: 'SecretVersionNotFound' });
  });
});
