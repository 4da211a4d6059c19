import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startTaskProtectionStandIn,
  type TaskProtectionStandIn,
} from '../../../../local/ecs-agent/task-protection-stand-in.ts';
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

/**
 * A stopping worker hands back at once every message it holds and has not finished, so that
 * another worker goes on with the job now, not once the visibility timeout ends. The workers
 * here keep their messages invisible for 300 s; the job must be picked up again within 60 s of
 * the stop (a bound that only a message left invisible can break, not a slow machine).
 */
let system: RunningSystem;
let arn: string;
let agent: TaskProtectionStandIn;
const started: ChildProcess[] = [];

const visibilitySeconds = 300;
const pickupBoundMs = 60_000;

/** A worker as its own process (the real entry point, API off), messages invisible 300 s. */
function workerProcess(env: Record<string, string> = {}): WorkerProcess {
  const child = startWorkerProcess(system, {
    WORKER_VISIBILITY_TIMEOUT_SECONDS: String(visibilitySeconds),
    LOG_LEVEL: 'debug',
    ...env,
  });
  started.push(child);
  return child;
}

async function inFlight(): Promise<number> {
  const out = await system.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: system.provisioned.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '0');
}

beforeAll(async () => {
  // The slow server waits 20 s before running its script: the job waits for its command.
  system = await aRunningSystem({ worker: false, timing: { slowMs: 20_000 } });
  arn = await anExportableCertificate(system.clients.acm);
  await anInstance(system.clients.ec2, { tags: { env: 'handback', 'standin:behaviour': 'slow' } });
  await anInstance(system.clients.ec2, { tags: { env: 'handback-fast' } });
  // The ECS agent takes 4 s to protect the task (within the adapter's 5 s timeout).
  agent = await startTaskProtectionStandIn({ latencyMs: 4000 });
});

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await agent?.stop();
  await system?.stop();
});

const job = (jobId: string, value: string) => ({
  type: 'deploy',
  version: 1,
  jobId,
  certificateArn: arn,
  certName: jobId,
  target: { key: 'env', value },
});

describe('a worker stopped on SIGTERM', () => {
  it('hands back at once a message it received and had not finished when its grace ended', async () => {
    // The message is received and waits for the task's scale-in protection (4 s), or its first
    // steps run: the 1 s grace ends before the job is done either way.
    const stopping = workerProcess({
      ECS_AGENT_URI: agent.agentUri('task-handback'),
      SHUTDOWN_GRACE_SECONDS: '1',
    });
    await logged(stopping, 'worker started');
    await enqueue(system, job('it-handback-held', 'handback-fast'));
    const deadline = Date.now() + 30_000;
    while ((await inFlight()) === 0) {
      if (Date.now() > deadline) throw new Error(`not received:\n${stopping.output.join('')}`);
      await sleep(20);
    }
    stopping.kill('SIGTERM');
    expect(await exitCode(stopping)).toBe(0);
    const stoppedAt = Date.now();
    expect(stopping.output.join('')).toContain(
      'the grace is over; unfinished messages handed back to the queue',
    );

    const next = workerProcess();
    const d = await finished(system, 'it-handback-held', pickupBoundMs);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(Date.now() - stoppedAt).toBeLessThan(pickupBoundMs);
    expect(await commandsFor(system, 'it-handback-held')).toHaveLength(1);
    next.kill('SIGTERM');
    expect(await exitCode(next)).toBe(0);
  }, 150_000);

  it('hands back at once a job waiting for its Run Command outcome', async () => {
    const stopping = workerProcess();
    await enqueue(system, job('it-handback-watch', 'handback'));
    // The job's command runs (20 s on the slow server): its message goes to the watcher (the
    // outcome is logged just before), which holds it.
    await logged(stopping, '"msg":"message handled"');
    await sleep(1000);
    stopping.kill('SIGTERM');
    expect(await exitCode(stopping)).toBe(0);
    const stoppedAt = Date.now();
    expect(stopping.output.join('')).toContain('running jobs handed back to the queue');

    const next = workerProcess();
    const d = await finished(system, 'it-handback-watch', pickupBoundMs);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(Date.now() - stoppedAt).toBeLessThan(pickupBoundMs);
    expect(d.attempts).toBeGreaterThanOrEqual(2);
    expect(await commandsFor(system, 'it-handback-watch')).toHaveLength(1);
    next.kill('SIGTERM');
    expect(await exitCode(next)).toBe(0);
  }, 150_000);
});
