import { setTimeout as sleep } from 'node:timers/promises';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, isTerminal } from '../../../src/domain/deployment.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue } from './helpers.ts';

/**
 * The AWS requests one single-target deployment costs, counted by the proxies in front of the
 * emulator and the Run Command stand-in (issue 13: at most 12 for a first deployment of a
 * mapping, 10 for a repeat). Counts, never timing: what depends on how long the command runs
 * (the looks at its status, and the worker's idle long polls of an empty queue) is printed and
 * bounded separately.
 */

let system: RunningSystem;
let arn: string;

/**
 * Requests that follow a running command, and the heartbeats that keep its message hidden: how
 * many depends on how long it runs.
 */
const statusLooks = [
  'AmazonSSM.ListCommands',
  'AmazonSSM.ListCommandInvocations',
  'AmazonSQS.ChangeMessageVisibility',
];

beforeAll(async () => {
  system = await aRunningSystem({ countRequests: true });
  arn = await anExportableCertificate(system.clients.acm);
  await anInstance(system.clients.ec2, { tags: { env: 'counted' } });
});

afterAll(async () => {
  await system?.stop();
});

/** The job's record once terminal, read past the proxies (the test's reads are not counted). */
async function terminal(jobId: string): Promise<Deployment> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const out = await system.clients.dynamodb.send(
      new GetCommand({
        TableName: system.provisioned.names.deploymentsTable,
        Key: { JobId: jobId },
        ConsistentRead: true,
      }),
    );
    const d = out.Item?.Data as Deployment | undefined;
    if (d !== undefined && isTerminal(d.status)) return d;
    if (Date.now() > deadline) throw new Error(`${jobId} not finished: ${JSON.stringify(d)}`);
    await sleep(50);
  }
}

/** Runs one deployment and returns the service's requests for it, by operation. */
async function deployment(jobId: string): Promise<Map<string, number>> {
  const proxies = [system.proxy, system.ssmProxy];
  for (const p of proxies) p?.reset();
  await enqueue(system, {
    type: 'deploy',
    version: 1,
    jobId,
    certificateArn: arn,
    certName: 'counted',
    target: { key: 'env', value: 'counted' },
  });
  const d = await terminal(jobId);
  expect(d.status, d.reason).toBe('Succeeded');
  // The message leaves the queue once the outcome is recorded: wait for that delete.
  const deadline = Date.now() + 10_000;
  while ((system.proxy?.counts.get('AmazonSQS.DeleteMessage') ?? 0) === 0) {
    if (Date.now() > deadline) throw new Error('the message was never deleted');
    await sleep(20);
  }
  await sleep(200);
  const counts = new Map<string, number>();
  for (const p of proxies) for (const [op, n] of p?.counts ?? []) counts.set(op, n);
  return counts;
}

/** The deployment's requests: the receive that brought its message counts once. */
function perDeployment(counts: Map<string, number>) {
  const own = new Map(counts);
  own.set('AmazonSQS.ReceiveMessage', 1);
  const looks = statusLooks.reduce((n, op) => n + (own.get(op) ?? 0), 0);
  for (const op of statusLooks) own.delete(op);
  const total = [...own.values()].reduce((a, b) => a + b, 0);
  return { own, looks, total };
}

function table(counts: Map<string, number>): string {
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
}

describe('requests per deployment', () => {
  it('a first deployment of a mapping, then a repeat', async () => {
    const first = await deployment('it-count-first-1');
    const repeat = await deployment('it-count-repeat-1');
    const a = perDeployment(first);
    const b = perDeployment(repeat);
    console.log(`first deployment: ${a.total} + ${a.looks} status looks: ${table(first)}`);
    console.log(`repeat deployment: ${b.total} + ${b.looks} status looks: ${table(repeat)}`);
    // Nothing handed back and no retry: one receive, one delete.
    expect(first.get('AmazonSQS.DeleteMessage')).toBe(1);
    expect(repeat.get('AmazonSQS.DeleteMessage')).toBe(1);
    expect(first.get('AmazonSSM.SendCommand')).toBe(1);
    expect(repeat.get('AmazonSSM.SendCommand')).toBe(1);
  });
});
