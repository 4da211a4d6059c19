import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { RenewCertificateCommand } from '@aws-sdk/client-acm';
import { PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestClients, testAwsConfig, testClients } from '../../../service/test/support/aws.ts';
import { aPrivateCertificate } from '../../../service/test/support/builders/certificates.ts';
import { type MotoServer, startMoto } from '../../moto/moto-server.ts';
import { repoRoot } from '../../paths.ts';

// What the patches in local/moto change, shown against moto as published (launch.py --stock)
// started from the same .venv. The patched emulator is the one every other test uses.
let stock: MotoServer;
let stockClients: TestClients;
const patched = testClients();

beforeAll(async () => {
  stock = await startMoto({ stock: true });
  stockClients = testClients(testAwsConfig({ AWS_ENDPOINT_URL: stock.endpoint }));
});

afterAll(async () => {
  await stock?.stop();
});

/** Creates a secret, schedules its deletion, then writes to it. */
async function putAfterDeletion(c: TestClients): Promise<unknown> {
  const name = `stock-${randomUUID().slice(0, 8)}`;
  await c.secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: 'first' }));
  await c.secretsManager.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
  return c.secretsManager.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'next' }));
}

/** Routes a custom-source event to a new queue and returns the body the queue received. */
async function deliveredBody(c: TestClients): Promise<Record<string, unknown>> {
  const suffix = randomUUID().slice(0, 8);
  const { QueueUrl } = await c.sqs.send(new CreateQueueCommand({ QueueName: `stock-${suffix}` }));
  const { Attributes } = await c.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const rule = `stock-${suffix}`;
  await c.eventbridge.send(
    new PutRuleCommand({ Name: rule, EventPattern: JSON.stringify({ source: ['test.stock'] }) }),
  );
  await c.eventbridge.send(
    new PutTargetsCommand({ Rule: rule, Targets: [{ Id: 'q', Arn: Attributes?.QueueArn }] }),
  );
  await c.eventbridge.send(
    new PutEventsCommand({
      Entries: [{ Source: 'test.stock', DetailType: 'Stock check', Detail: '{"n":1}' }],
    }),
  );
  const { Messages } = await c.sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 5 }),
  );
  return JSON.parse(Messages?.[0]?.Body ?? '{}');
}

describe('stock moto, unlike the patched emulator', () => {
  it('writes to a secret scheduled for deletion, which AWS refuses', async () => {
    await expect(putAfterDeletion(stockClients)).resolves.toMatchObject({
      VersionId: expect.any(String),
    });
    await expect(putAfterDeletion(patched)).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
  });

  it('fails RenewCertificate', async () => {
    const arn = await aPrivateCertificate(stockClients.acm);
    await expect(
      stockClients.acm.send(new RenewCertificateCommand({ CertificateArn: arn })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });

  it('leaves `account` out of the event an EventBridge target receives', async () => {
    expect(await deliveredBody(stockClients)).not.toHaveProperty('account');
    expect(await deliveredBody(patched)).toMatchObject({ account: '123456789012' });
  });
});

describe('stock moto started for a test', () => {
  it('never outlives the process that started it, even one killed with SIGKILL', async () => {
    const runner = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const { startMoto } = await import('./local/moto/moto-server.ts'); const m = await startMoto({ stock: true }); console.log(JSON.stringify({ pid: m.pid })); setInterval(() => {}, 1000);",
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(runner.stdout, 'data')) as [Buffer];
    const { pid } = JSON.parse(String(line)) as { pid: number };
    runner.kill('SIGKILL');
    await once(runner, 'exit');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    expect(alive(pid)).toBe(false);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
