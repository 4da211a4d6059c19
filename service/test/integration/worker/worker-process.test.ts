import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startAwsProxy } from '../../../../local/aws-proxy/aws-proxy.ts';
import {
  startTaskProtectionStandIn,
  type TaskProtectionStandIn,
} from '../../../../local/ecs-agent/task-protection-stand-in.ts';
import { repoRoot } from '../../../../local/paths.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished } from './helpers.ts';
import {
  commandsFor,
  exitCode,
  logged,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-processes.ts';

let system: RunningSystem;
let arn: string;
const started: ChildProcess[] = [];

/** A worker as its own process: the real entry point, API off. */
function workerProcess(env: Record<string, string> = {}): WorkerProcess {
  const child = startWorkerProcess(system, {
    WORKER_VISIBILITY_TIMEOUT_SECONDS: '10',
    LOG_LEVEL: 'info',
    ...env,
  });
  started.push(child);
  return child;
}

async function statusReaches(jobId: string, status: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await system.ports.deployments.get(jobId))?.status === status) return;
    await sleep(50);
  }
  throw new Error(`${jobId} never reached ${status}`);
}

beforeAll(async () => {
  system = await aRunningSystem({ worker: false, timing: { slowMs: 4000 } });
  arn = await anExportableCertificate(system.clients.acm);
  await anInstance(system.clients.ec2, { tags: { env: 'slow', 'standin:behaviour': 'slow' } });
});

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await system?.stop();
});

const job = (jobId: string) => ({
  type: 'deploy',
  version: 1,
  jobId,
  certificateArn: arn,
  certName: jobId,
  target: { key: 'env', value: 'slow' },
});

describe('a worker process', () => {
  it('killed mid-poll leaves a job that a new worker process finishes without a second command', async () => {
    const first = workerProcess();
    await enqueue(system, job('it-crash-0001'));
    await statusReaches('it-crash-0001', 'Running');
    first.kill('SIGKILL');
    await once(first, 'exit');

    const second = workerProcess();
    const d = await finished(system, 'it-crash-0001', 60_000);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(d.attempts).toBeGreaterThanOrEqual(2);
    expect(await commandsFor(system, 'it-crash-0001')).toHaveLength(1);
    second.kill('SIGTERM');
    const [code] = await once(second, 'exit');
    expect(code).toBe(0);
  });

  it('stops on SIGTERM within the grace period, exit 0, handing its job back', async () => {
    const worker = workerProcess();
    await enqueue(system, job('it-sigterm-01'));
    await statusReaches('it-sigterm-01', 'Running');
    const stoppedAt = Date.now();
    worker.kill('SIGTERM');
    const [code] = await once(worker, 'exit');
    expect(code).toBe(0);
    // A correctness bound, not a speed target: ECS kills the task 30 s after SIGTERM.
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    expect(worker.output.join('')).toContain('"msg":"stopped"');

    const next = workerProcess();
    const d = await finished(system, 'it-sigterm-01', 60_000);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(await commandsFor(system, 'it-sigterm-01')).toHaveLength(1);
    next.kill('SIGTERM');
    await once(next, 'exit');
  });

  it('hands back at once a job its last long poll brought while stopping', async () => {
    // Production settings: 20 s long polls, 60 s visibility. The only worker receiving is the
    // one stopping, so its long poll in flight brings the job. Its calls pass a counting proxy:
    // SIGTERM goes once that long poll is on its way, however long the start took.
    // Run Command's status events of the earlier tests' commands can still be on the queue (a
    // worker stopped before one came): the stopping worker's long poll must be the one that
    // brings this test's job, so they are taken off first.
    for (;;) {
      const out = await system.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: system.provisioned.queueUrl,
          WaitTimeSeconds: 1,
          MaxNumberOfMessages: 10,
        }),
      );
      if ((out.Messages ?? []).length === 0) break;
      for (const m of out.Messages ?? []) {
        expect(m.Body).toContain('EC2 Command Status-change Notification');
        await system.clients.sqs.send(
          new DeleteMessageCommand({
            QueueUrl: system.provisioned.queueUrl,
            ReceiptHandle: m.ReceiptHandle,
          }),
        );
      }
    }
    const proxy = await startAwsProxy({ target: system.env.AWS_ENDPOINT_URL as string });
    onTestFinished(() => proxy.stop());
    const stopping = workerProcess({
      AWS_ENDPOINT_URL: proxy.endpoint,
      WORKER_RECEIVE_WAIT_SECONDS: '20',
      WORKER_VISIBILITY_TIMEOUT_SECONDS: '60',
      WORKER_CONCURRENCY: '1',
    });
    const deadline = Date.now() + 30_000;
    while ((proxy.counts.get('AmazonSQS.ReceiveMessage') ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error(`no receive:\n${stopping.output.join('')}`);
      await sleep(20);
    }
    stopping.kill('SIGTERM');
    await logged(stopping, '"msg":"stopping"');
    const sentAt = Date.now();
    await enqueue(system, job('it-handback-1'));
    await logged(stopping, 'message handed back to the queue');
    expect(await exitCode(stopping)).toBe(0);

    // Another worker (the test, receiving as a worker would) gets it now, not after 60 s.
    let receivedAt: number | undefined;
    let receipt: string | undefined;
    while (receivedAt === undefined && Date.now() - sentAt < 20_000) {
      const out = await system.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: system.provisioned.queueUrl,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 30,
        }),
      );
      const message = out.Messages?.find((m) => m.Body?.includes('it-handback-1'));
      if (message !== undefined) {
        receivedAt = Date.now();
        receipt = message.ReceiptHandle;
      }
    }
    expect(receivedAt, 'the job never became receivable').toBeDefined();
    expect((receivedAt as number) - sentAt).toBeLessThan(2000);
    expect((await system.ports.deployments.get('it-handback-1'))?.status ?? 'none').toBe('none');

    // Back on the queue, the job runs to its end on a new worker with one command.
    await system.clients.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: system.provisioned.queueUrl,
        ReceiptHandle: receipt,
        VisibilityTimeout: 0,
      }),
    );
    const next = workerProcess();
    const d = await finished(system, 'it-handback-1', 60_000);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(await commandsFor(system, 'it-handback-1')).toHaveLength(1);
    next.kill('SIGTERM');
    await once(next, 'exit');
  });

  it('refuses to start with a bad configuration, saying which variable', async () => {
    const child = spawn(process.execPath, ['service/src/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, ...system.env, QUEUE_URL: 'not-a-url' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += String(b);
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(stderr).toMatch(/QUEUE_URL must be an http\(s\) URL/);
  });
});

describe('a worker process on ECS (the agent endpoint stand-in on loopback)', () => {
  let agent: TaskProtectionStandIn;
  beforeAll(async () => {
    // The agent calls ECS before it answers: a job that did not wait for the answer would write
    // its record before the protection is recorded.
    agent = await startTaskProtectionStandIn({ latencyMs: 300 });
  });
  afterAll(async () => {
    await agent?.stop();
  });

  const onEcs = (task: string) => ({
    ECS_AGENT_URI: agent.agentUri(task),
    TASK_PROTECTION_RELEASE_AFTER_IDLE_SECONDS: '1',
  });
  const requestsOf = (task: string) => agent.requests.filter((r) => r.task === task);

  async function recordExists(jobId: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await system.ports.deployments.get(jobId)) === undefined) {
      if (Date.now() > deadline) throw new Error(`no record for ${jobId}`);
      await sleep(20);
    }
  }

  it('protects its task before the first step of a job, once for jobs arriving together, and releases it when idle', async () => {
    const jobs = ['it-protect-01', 'it-protect-02', 'it-protect-03'];
    for (const jobId of jobs) await enqueue(system, job(jobId));
    const worker = workerProcess(onEcs('task-busy'));
    for (const jobId of jobs) {
      await recordExists(jobId);
      // The record is the job's first step: the protection was recorded before it.
      expect(agent.isProtected('task-busy'), jobId).toBe(true);
    }
    expect(requestsOf('task-busy').map((r) => r.enabled)).toEqual([true]);
    expect(requestsOf('task-busy')[0]?.expiresInMinutes).toBe(10);

    for (const jobId of jobs) {
      const d = await finished(system, jobId, 60_000);
      expect(d.status, d.reason).toBe('Succeeded');
    }
    const deadline = Date.now() + 20_000;
    while (agent.isProtected('task-busy')) {
      if (Date.now() > deadline) throw new Error(`never released:\n${worker.output.join('')}`);
      await sleep(50);
    }
    // Protect and release alternate (a job polled later may protect the task again); the last
    // request released it.
    const states = requestsOf('task-busy').map((r) => r.enabled);
    expect(states.at(-1)).toBe(false);
    for (let i = 1; i < states.length; i++) expect(states[i]).toBe(!states[i - 1]);
    // The line is written after the agent answered: on a busy machine it can reach the pipe later.
    const logged = Date.now() + 20_000;
    while (!worker.output.join('').includes('task scale-in protection released')) {
      if (Date.now() > logged) throw new Error(`release not logged:\n${worker.output.join('')}`);
      await sleep(50);
    }
    worker.kill('SIGTERM');
    expect(await exitCode(worker)).toBe(0);
  });

  it('killed while protected (Spot, a forced stop: the task goes away anyway), leaves a job that a new task finishes with one command', async () => {
    const first = workerProcess(onEcs('task-killed'));
    await enqueue(system, job('it-protect-kill'));
    await statusReaches('it-protect-kill', 'Running');
    expect(agent.isProtected('task-killed')).toBe(true);
    first.kill('SIGKILL');
    await once(first, 'exit');
    // Nobody released it: on ECS the protection of a stopped task simply ends with the task.
    expect(requestsOf('task-killed').map((r) => r.enabled)).toEqual([true]);

    const second = workerProcess(onEcs('task-next'));
    const d = await finished(system, 'it-protect-kill', 60_000);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(d.attempts).toBeGreaterThanOrEqual(2);
    expect(await commandsFor(system, 'it-protect-kill')).toHaveLength(1);
    expect(requestsOf('task-next').map((r) => r.enabled)[0]).toBe(true);
    second.kill('SIGTERM');
    expect(await exitCode(second)).toBe(0);
  });

  it('runs its jobs unprotected when ECS refuses the protection, saying so', async () => {
    agent.behave('ecs-failure');
    try {
      const worker = workerProcess(onEcs('task-refused'));
      await enqueue(system, job('it-protect-refused'));
      const d = await finished(system, 'it-protect-refused', 60_000);
      expect(d.status, d.reason).toBe('Succeeded');
      expect(worker.output.join('')).toContain('task scale-in protection failed');
      expect(agent.isProtected('task-refused')).toBe(false);
      worker.kill('SIGTERM');
      expect(await exitCode(worker)).toBe(0);
    } finally {
      agent.behave('normal');
    }
  });
});
