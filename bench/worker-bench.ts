import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbServerStore } from '../service/src/adapters/dynamodb-server-store.ts';
import { composeWorker } from '../service/src/composition.ts';
import { loadConfig } from '../service/src/config/config.ts';
import { type Deployment, isTerminal } from '../service/src/domain/deployment.ts';
import { createLogger } from '../service/src/logging/logger.ts';
import { startWorker } from '../service/src/worker/start-worker.ts';
import type { BenchSystem } from './bench-system.ts';
import { percentile, round } from './stats.ts';

/** The worker in this process, configured as in production except for the endpoints. */
export function startBenchWorker(system: BenchSystem, concurrency: number) {
  const config = loadConfig({
    ...system.serviceEnv,
    API_ENABLED: 'false',
    AUTH_MODE: 'none',
    WORKER_CONCURRENCY: String(concurrency),
  });
  const { clients, worker: deps } = composeWorker(config, createLogger('silent'));
  const worker = startWorker(config, clients.sqs, deps);
  return {
    async stop() {
      await worker.stop(10_000);
      clients.destroy();
    },
  };
}

function job(system: BenchSystem, jobId: string, target: string) {
  return {
    type: 'deploy',
    version: 1,
    jobId,
    certificateArn: system.certificateArn,
    certName: jobId,
    target: { key: 'env', value: target },
  };
}

async function record(system: BenchSystem, jobId: string): Promise<Deployment | undefined> {
  const out = await system.clients.dynamodb.send(
    new GetCommand({
      TableName: system.provisioned.names.deploymentsTable,
      Key: { JobId: jobId },
      ConsistentRead: true,
    }),
  );
  return out.Item?.Data as Deployment | undefined;
}

async function waitTerminal(
  system: BenchSystem,
  jobId: string,
  timeoutMs: number,
  pollMs = 20,
): Promise<Deployment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await record(system, jobId);
    if (d !== undefined && isTerminal(d.status)) return d;
    if (Date.now() > deadline)
      throw new Error(`${jobId} did not finish: ${d?.status ?? 'no record'}`);
    await sleep(pollMs);
  }
}

/**
 * How long some server of the job was running the script (SSM's ExecutionStart/EndDateTime,
 * the union of the servers' runs): with servers in parallel, the longest run; with a rate
 * control that runs them one after another (10 % of 2 servers is one at a time), their sum.
 * What is left of a job's time is the orchestration's.
 */
async function serverRunMs(system: BenchSystem, d: Deployment): Promise<number> {
  const servers = new DynamoDbServerStore(
    system.clients.dynamodb,
    system.provisioned.names.serversTable,
  );
  const { items } = await servers.listJobResults(d.job.jobId, 100);
  const runs: [number, number][] = [];
  for (const s of items) {
    const inv = await system.clients.ssm.send(
      new GetCommandInvocationCommand({ CommandId: d.commandId, InstanceId: s.instanceId }),
    );
    const start = Date.parse(inv.ExecutionStartDateTime ?? '');
    const end = Date.parse(inv.ExecutionEndDateTime ?? '');
    if (Number.isFinite(start) && Number.isFinite(end)) runs.push([start, end]);
  }
  return unionMs(runs);
}

/** Total length of a set of time intervals, overlaps counted once. */
export function unionMs(runs: readonly (readonly [number, number])[]): number {
  let total = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const [start, end] of [...runs].sort((a, b) => a[0] - b[0])) {
    if (end <= reach) continue;
    total += end - Math.max(start, reach);
    reach = end;
  }
  return total;
}

/**
 * Orchestration overhead: enqueue → recorded completion, minus the time some server was running
 * the script, one job at a time so that nothing queues behind anything.
 */
export async function measureOverhead(system: BenchSystem, samples: number, target: string) {
  const overheads: number[] = [];
  const commandSeconds: number[] = [];
  for (let i = 0; i < samples; i++) {
    const jobId = `bench-lat-${String(i).padStart(4, '0')}`;
    const t0 = Date.now();
    await system.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: system.provisioned.queueUrl,
        MessageBody: JSON.stringify(job(system, jobId, target)),
      }),
    );
    const d = await waitTerminal(system, jobId, 60_000);
    if (d.status !== 'Succeeded') throw new Error(`${jobId} ended ${d.status}: ${d.reason}`);
    const finished = Date.parse(d.finishedAt ?? '');
    const run = await serverRunMs(system, d);
    overheads.push(finished - t0 - run);
    commandSeconds.push((finished - Date.parse(d.dispatchedAt ?? d.createdAt)) / 1000);
  }
  return {
    figure: 'orchestration_overhead_ms',
    p50: round(percentile(overheads, 50), 0),
    p95: round(percentile(overheads, 95), 0),
    samples,
    target_p50: 1500,
    original_mean_extra_wait: 7500,
    command_seconds_p50: round(percentile(commandSeconds, 50), 2),
  };
}

/** Many deployments at once with ExportCertificate held to 5 per second by the test bed. */
export async function measureThroughput(system: BenchSystem, count: number, target: string) {
  system.aws.reset();
  system.ssmProxy.reset();
  const ids = Array.from({ length: count }, (_, i) => `bench-tput-${String(i).padStart(4, '0')}`);
  const t0 = Date.now();
  for (let i = 0; i < ids.length; i += 10) {
    await system.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: system.provisioned.queueUrl,
        Entries: ids
          .slice(i, i + 10)
          .map((id) => ({ Id: id, MessageBody: JSON.stringify(job(system, id, target)) })),
      }),
    );
  }
  const done: Deployment[] = [];
  for (const id of ids) done.push(await waitTerminal(system, id, 600_000, 200));
  const last = Math.max(...done.map((d) => Date.parse(d.finishedAt ?? '')));
  const seconds = (last - t0) / 1000;
  const rate = count / seconds;
  const failed = done.filter((d) => d.status !== 'Succeeded').length;
  const counts: Record<string, number> = {};
  for (const [op, n] of [...system.aws.counts, ...system.ssmProxy.counts])
    counts[op] = round(n / count, 2);
  const throttled = [...system.aws.throttled.values()].reduce((a, b) => a + b, 0);
  const sizes = done.map((d) => JSON.stringify({ Data: d }).length / 1024);
  return {
    throughput: {
      figure: 'throughput_deployments_per_second',
      value: round(rate, 2),
      export_limit_per_second: 5,
      share_of_limit: round(rate / 5, 3),
      target_share: 0.9,
      deployments: count,
      failed,
      seconds: round(seconds, 1),
      exports_throttled_by_test_bed: throttled,
      failure_reasons: [
        ...new Set(
          done.filter((d) => d.status !== 'Succeeded').map((d) => `${d.status}: ${d.reason}`),
        ),
      ].slice(0, 3),
    },
    requests: { figure: 'aws_requests_per_deployment', by_kind: counts },
    recordKb: sizes.reduce((a, b) => a + b, 0) / sizes.length,
  };
}
