import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../../service/src/domain/deployment.ts';
import { exportSecretName } from '../../../../service/src/domain/export-secret-name.ts';
import { queueJobId, secretVersionToken } from '../../../../service/src/worker/job-ids.ts';
import {
  deadLetterJobId,
  deadLettersSayWhy,
  noLockHeld,
  queueEmpty,
  versionPerExport,
} from '../../../soak/invariants-state.ts';

const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0b6c1f0e-1111-2222-3333-444444444444';
const job = (jobId: string, value = 'dev') => ({
  type: 'deploy' as const,
  version: 1 as const,
  jobId,
  certificateArn: arn,
  certName: 'web',
  target: { key: 'env', value },
});
const record = (jobId: string, changes: Partial<Deployment> = {}, value = 'dev') =>
  ({
    job: job(jobId, value),
    status: 'Succeeded',
    reason: 'installed',
    conditions: [],
    attempts: 1,
    failures: 0,
    createdAt: '',
    updatedAt: '',
    version: 1,
    ...changes,
  }) as Deployment;

describe('invariant 3: no message left on the job queue', () => {
  it('holds when every count is 0 and names the counts that are not', () => {
    expect(queueEmpty({ visible: 0, notVisible: 0, delayed: 0 })).toMatchObject({
      holds: true,
      count: 3,
    });
    expect(queueEmpty({ visible: 0, notVisible: 2, delayed: 1 })).toMatchObject({
      holds: false,
      detail: '2 notVisible; 1 delayed',
    });
  });
});

describe('invariant 4: no mapping lock held', () => {
  it('holds without locks and names a lock and its job', () => {
    expect(noLockHeld(4, [])).toMatchObject({ holds: true, count: 4 });
    expect(
      noLockHeld(4, [{ item: 'env#dev web', jobId: 'j9', until: '2026-11-30T00:00:00Z' }]),
    ).toMatchObject({
      holds: false,
      detail: 'env#dev web locked by j9 until 2026-11-30T00:00:00Z',
    });
  });
});

describe('invariant 5: a secret version per export at most', () => {
  const name = exportSecretName('acm-passphrase/', job('j1'));
  const records = [record('j1'), record('j2'), record('k1', {}, 'prod')];

  it("holds when every version is the export of one of its mapping's jobs", () => {
    const line = versionPerExport(
      [{ name, versionIds: [secretVersionToken('j1'), secretVersionToken('j2')] }],
      records,
      'acm-passphrase/',
      3,
    );
    expect(line).toMatchObject({ holds: true, count: 2, detail: '2 versions, 3 exports' });
  });

  it("fails on a version no job of the mapping made (another mapping's job counts for nothing)", () => {
    const line = versionPerExport(
      [{ name, versionIds: [secretVersionToken('j1'), secretVersionToken('k1'), 'v-extra'] }],
      records,
      'acm-passphrase/',
    );
    expect(line.holds).toBe(false);
    expect(line.detail).toBe(
      `${name}: 2 of 3 versions are no job's export (${secretVersionToken('k1')}, v-extra)`,
    );
  });

  it('fails on more versions than ExportCertificate calls', () => {
    const line = versionPerExport(
      [{ name, versionIds: [secretVersionToken('j1'), secretVersionToken('j2')] }],
      records,
      'acm-passphrase/',
      1,
    );
    expect(line).toMatchObject({
      holds: false,
      detail: '2 secret versions for 1 ExportCertificate calls',
    });
  });
});

describe('invariant 6: the dead-letter queue holds only jobs that say why', () => {
  const byId = new Map([
    ['j1', record('j1', { status: 'Failed', reason: 'gave up after 8 failed attempts' })],
    ['j2', record('j2', { status: 'Running', reason: undefined })],
  ]);

  it('finds the job of a message: its jobId, or the one its queue message id makes', () => {
    expect(
      deadLetterJobId({ messageId: 'm', body: JSON.stringify({ type: 'deploy', jobId: 'j1' }) }),
    ).toBe('j1');
    expect(
      deadLetterJobId({
        messageId: 'm2',
        originalMessageId: 'm1',
        body: JSON.stringify({ CertificateArn: arn }),
      }),
    ).toBe(queueJobId('m1'));
    expect(deadLetterJobId({ messageId: 'm', body: 'not json' })).toBeUndefined();
  });

  it("holds for messages with a reason and for one whose job's record says why", () => {
    const line = deadLettersSayWhy(
      [
        { messageId: 'm1', body: 'garbage', reason: 'invalid message: not JSON' },
        { messageId: 'm2', body: JSON.stringify({ type: 'deploy', jobId: 'j1' }) },
      ],
      byId,
    );
    expect(line).toMatchObject({ holds: true, count: 2 });
  });

  it('fails on a message without a reason whose job is unknown or unfinished', () => {
    const line = deadLettersSayWhy(
      [
        { messageId: 'm3', body: 'garbage' },
        { messageId: 'm4', body: JSON.stringify({ type: 'deploy', jobId: 'j2' }) },
      ],
      byId,
    );
    expect(line.holds).toBe(false);
    expect(line.detail).toBe(
      'm3: no reason and no record; m4: no reason; its job j2 is Running without one',
    );
  });
});
