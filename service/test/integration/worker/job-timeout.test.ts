import { setTimeout as sleep } from 'node:timers/promises';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished } from './helpers.ts';

// A job that outlives its timeout ends TimedOut and cancels its command: the servers that have
// not finished stop, rather than installing behind an outcome already recorded.
let system: RunningSystem;
let arn: string;

beforeAll(async () => {
  system = await aRunningSystem({ env: { JOB_TIMEOUT_SECONDS: '10' } });
  arn = await anExportableCertificate(system.clients.acm);
  await anInstance(system.clients.ec2, { tags: { env: 'stuck', 'standin:behaviour': 'hang' } });
});

afterAll(async () => {
  await system?.stop();
});

describe('a job that times out', () => {
  it('ends TimedOut and cancels its command on the servers still running it', async () => {
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-timeout-0001',
      certificateArn: arn,
      certName: 'stuck',
      target: { key: 'env', value: 'stuck' },
    });
    const d = await finished(system, 'it-timeout-0001', 90_000);
    expect(d.status, d.reason).toBe('TimedOut');
    expect(d.reason).toContain('was cancelled on the rest');
    const commandId = d.commandId as string;
    const deadline = Date.now() + 30_000;
    let status: string | undefined;
    for (;;) {
      const { Commands } = await system.clients.ssm.send(
        new ListCommandsCommand({ CommandId: commandId }),
      );
      status = Commands?.[0]?.Status;
      if (status === 'Cancelled' || Date.now() > deadline) break;
      await sleep(200);
    }
    expect(status).toBe('Cancelled');
  }, 120_000);
});
