import { appendFile, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSecretName } from '../../../../service/src/domain/export-secret-name.ts';
import { certificateArnCertName } from '../../../../service/src/domain/target.ts';
import { enqueue, finished } from '../../../../service/test/integration/worker/helpers.ts';
import { anExportableCertificate } from '../../../../service/test/support/builders/certificates.ts';
import { instances } from '../../../../service/test/support/builders/instances.ts';
import {
  aRunningSystem,
  type RunningSystem,
} from '../../../../service/test/support/running-system.ts';
import {
  checkInvariants,
  collectSecrets,
  type InvariantBed,
  type InvariantLine,
  newSecretHarvest,
  type SoakRecord,
} from '../../../soak/invariants.ts';
import { readQueueDepth } from '../../../soak/invariants-read.ts';

// The invariants on the real bed (moto, the Run Command stand-in, an in-process worker): a few
// deployments, every invariant holds; then each is broken for real and its line fails.
let system: RunningSystem;
let bed: InvariantBed;
let arn: string;
let dir: string;
let logFile: string;
const harvest = newSecretHarvest();
let servers: { ok: string[]; mixed: string[] };

const aJob = (jobId: string, value: string) => ({
  type: 'deploy',
  version: 1,
  jobId,
  certificateArn: arn,
  certName: 'web',
  target: { key: 'env', value },
});

beforeAll(async () => {
  system = await aRunningSystem();
  bed = {
    clients: { ...system.clients, secrets: system.clients.secretsManager },
    provisioned: system.provisioned,
    standInStateDir: system.standIn.stateDir,
  };
  dir = await mkdtemp(join(tmpdir(), 'soak-invariants-'));
  logFile = join(dir, 'worker.log');
  arn = await anExportableCertificate(system.clients.acm);
  servers = {
    ok: await instances(system.clients.ec2, 2, { tags: { env: 'inv-ok' } }),
    mixed: [
      ...(await instances(system.clients.ec2, 1, { tags: { env: 'inv-mixed' } })),
      ...(await instances(system.clients.ec2, 1, {
        tags: { env: 'inv-mixed', 'standin:behaviour': 'fail' },
      })),
    ],
  };
});

afterAll(async () => {
  await system?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function drained(timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Quiet for 2 s: Run Command's status-change events can land after the jobs they end.
  let quiet = 0;
  while (quiet < 5) {
    const d = await readQueueDepth(system.clients.sqs, system.provisioned.queueUrl);
    quiet = d.visible + d.notVisible + d.delayed === 0 ? quiet + 1 : 0;
    if (Date.now() > deadline) throw new Error(`queue not drained: ${JSON.stringify(d)}`);
    await sleep(500);
  }
}

async function check(): Promise<Map<string, InvariantLine>> {
  await writeFile(logFile, system.logLines.join(''), { flag: 'a' });
  system.logLines.length = 0;
  const record: SoakRecord = {
    accepted: ['inv-ok-1', 'inv-mixed-1', 'inv-none-1'].map((jobId) => ({ jobId, via: 'queue' })),
    logFiles: [logFile],
    secrets: harvest,
  };
  const lines = await checkInvariants(bed, record);
  expect(lines).toHaveLength(8);
  return new Map(lines.map((l, i) => [String(i + 1), l]));
}

describe('the soak invariants on the bed', () => {
  it('all hold after a success, a partial failure, a job without servers and a dead letter', async () => {
    await enqueue(system, aJob('inv-ok-1', 'inv-ok'));
    await enqueue(system, aJob('inv-mixed-1', 'inv-mixed'));
    await enqueue(system, aJob('inv-none-1', 'inv-none'));
    await enqueue(system, 'not a job');
    expect((await finished(system, 'inv-ok-1')).status).toBe('Succeeded');
    expect((await finished(system, 'inv-mixed-1')).status).toBe('PartiallyFailed');
    expect((await finished(system, 'inv-none-1')).status).toBe('NoTargets');
    await drained();
    await collectSecrets(bed, harvest);
    // Three versions: a passphrase and a key each; plus each real-script server's installed key.
    expect(harvest.values.size).toBeGreaterThanOrEqual(6);
    const lines = await check();
    for (const l of lines.values()) expect(l.holds, `${l.name}: ${l.detail}`).toBe(true);
    // 3 records, 3 commands, 3 queue counts, 3 mappings, 3 versions (the job without servers
    // exported too), 1 dead letter, the log's lines, 3 servers that should hold the certificate.
    expect([...lines.values()].map((l) => l.count)).toEqual([
      3,
      3,
      3,
      3,
      3,
      1,
      expect.any(Number),
      3,
    ]);
  });

  it('each fails when broken for real, naming what broke', async () => {
    const db = system.clients.dynamodb;
    const names = system.provisioned.names;
    // 1: a job record left in progress.
    await db.send(
      new PutCommand({
        TableName: names.deploymentsTable,
        Item: {
          JobId: 'inv-stuck-1',
          CertificateArn: arn,
          CreatedAt: new Date().toISOString(),
          Status: 'Running',
          Version: 3,
          Data: {
            job: aJob('inv-stuck-1', 'inv-ok'),
            status: 'Running',
            conditions: [],
            attempts: 1,
            failures: 0,
            createdAt: '',
            updatedAt: '',
            version: 3,
          },
        },
      }),
    );
    // 2: a second SendCommand carrying a job's comment.
    const { Commands = [] } = await system.clients.ssm.send(new ListCommandsCommand({}));
    const first = Commands.find((c) => c.Comment === 'acm-cert-export job inv-ok-1');
    await system.clients.ssm.send(
      new SendCommandCommand({
        DocumentName: first?.DocumentName,
        InstanceIds: [servers.ok[0] ?? ''],
        Parameters: first?.Parameters,
        Comment: 'acm-cert-export job inv-ok-1',
      }),
    );
    // 3: a message left on the queue (delayed beyond the worker's reach).
    await system.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: system.provisioned.queueUrl,
        MessageBody: 'left behind',
        DelaySeconds: 900,
      }),
    );
    // 4: a lock left on a mapping.
    await db.send(
      new UpdateCommand({
        TableName: names.mappingTable,
        Key: {
          TagKeyValue: 'env#inv-ok',
          'CertificateArn#CertName': certificateArnCertName(arn, 'web'),
        },
        UpdateExpression: 'SET LockJobId = :j, LockUntil = :u',
        ExpressionAttributeValues: { ':j': 'inv-lock-1', ':u': '2099-01-01T00:00:00.000Z' },
      }),
    );
    // 5: a secret version no export made.
    const secretName = exportSecretName('acm-passphrase/', aJob('x', 'inv-ok'));
    await system.clients.secretsManager.send(
      new PutSecretValueCommand({ SecretId: secretName, SecretString: 'stray' }),
    );
    // 7 too: a version made and scheduled for deletion before anything collected it.
    const mixedSecret = exportSecretName('acm-passphrase/', aJob('x', 'inv-mixed'));
    await system.clients.secretsManager.send(
      new PutSecretValueCommand({ SecretId: mixedSecret, SecretString: 'never read' }),
    );
    await system.clients.secretsManager.send(
      new DeleteSecretCommand({ SecretId: mixedSecret, RecoveryWindowInDays: 7 }),
    );
    // 6: a dead letter that says nothing.
    await system.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: system.provisioned.deadLetterQueueUrl,
        MessageBody: 'mystery',
      }),
    );
    // 7: a passphrase in a log line.
    const passphrase = [...harvest.values].find((v) => v.length === 40) ?? '';
    expect(passphrase).not.toBe('');
    await appendFile(logFile, `{"level":30,"msg":"exported with ${passphrase}"}\n`);
    // 8: a server that lost its certificate.
    await unlink(
      join(bed.standInStateDir, 'servers', servers.ok[1] ?? '', 'etc/ssl/certs/web-fullchain.pem'),
    );

    const lines = await check();
    const failed = (n: string) => {
      const l = lines.get(n);
      expect(l?.holds, `${l?.name} should fail`).toBe(false);
      return l?.detail ?? '';
    };
    expect(failed('1')).toContain('inv-stuck-1 left Running');
    expect(failed('2')).toBe('2 commands with "acm-cert-export job inv-ok-1"');
    // (The extra command's status-change event may be on the queue too.)
    expect(failed('3')).toMatch(/(^|; )1 delayed$/);
    expect(failed('4')).toContain('locked by inv-lock-1 until 2099-01-01T00:00:00.000Z');
    expect(failed('5')).toContain(`${secretName}: 1 of 2 versions are no job's export`);
    expect(failed('5')).toContain(`${mixedSecret}: 1 of 2 versions are no job's export`);
    expect(failed('6')).toMatch(/: no reason and no record$/);
    expect(failed('7')).toMatch(
      new RegExp(
        `^1 secret versions never collected \\(${mixedSecret}\\); worker\\.log line \\d+: a secret or key fragment$`,
      ),
    );
    expect(failed('7')).not.toContain(passphrase);
    expect(failed('8')).toBe(
      `${servers.ok[1]} holds no env=inv-ok web (${arn.split('/').pop()?.slice(0, 8)})`,
    );
    // The dead letters were read and left where they were.
    const again = await check();
    expect(again.get('6')?.count).toBe(2);
  });
});
