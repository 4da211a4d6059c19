import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freeLoopbackPort,
  type MotoServer,
  startMoto,
} from '../../../../local/moto/moto-server.ts';
import { repoRoot } from '../../../../local/paths.ts';
import { provision } from '../../../../local/provision.ts';
import { testAwsConfig, testClients } from '../../support/aws.ts';

/**
 * AWS unreachable: an emulator of this test's own, stopped under a running service (production
 * defaults: 10 consumers, 20 s long polls). The service must stay quiet and say it is not ready.
 */
let moto: MotoServer;
let service: ChildProcess & { lines: string[] };
let port: number;

async function readyz(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
    signal: AbortSignal.timeout(10_000),
  });
  return res.status;
}

beforeAll(async () => {
  moto = await startMoto();
  const clients = testClients(testAwsConfig({ AWS_ENDPOINT_URL: moto.endpoint }));
  const provisioned = await provision({
    dynamodb: clients.dynamodbRaw,
    sqs: clients.sqs,
    eventbridge: clients.eventbridge,
    ssm: clients.ssm,
  });
  port = await freeLoopbackPort();
  const child = spawn(process.execPath, ['service/src/main.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: moto.endpoint,
      QUEUE_URL: provisioned.queueUrl,
      DLQ_URL: provisioned.deadLetterQueueUrl,
      AUTH_MODE: 'none',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service = Object.assign(child, { lines: [] as string[] });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      service.lines.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
    });
  }
  const deadline = Date.now() + 60_000;
  while ((await readyz().catch(() => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error(`never ready:\n${service.lines.join('\n')}`);
    await sleep(200);
  }
}, 120_000);

afterAll(async () => {
  if (service !== undefined && service.exitCode === null) {
    service.kill('SIGTERM');
    await once(service, 'exit');
  }
  await moto?.stop();
});

describe('when AWS is unreachable', () => {
  it('writes at most 10 log lines a minute and answers /readyz with 503', async () => {
    await moto.stop();
    const before = service.lines.length;
    const statuses: number[] = [];
    const started = Date.now();
    // A load balancer and an operator look at readiness now and then during the minute.
    while (Date.now() - started < 60_000) {
      await sleep(10_000);
      statuses.push(await readyz());
    }
    const during = service.lines.slice(before);
    expect(during.length, during.join('\n')).toBeLessThanOrEqual(10);
    expect(
      statuses.every((s) => s === 503),
      JSON.stringify(statuses),
    ).toBe(true);
    // What it did say names the problem.
    expect(during.join('\n')).toMatch(/receiving from SQS failed; trying again in/);
    expect(service.exitCode).toBeNull();
  }, 120_000);
});
