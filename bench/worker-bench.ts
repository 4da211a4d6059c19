import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbDeploymentStore } from '../service/src/adapters/dynamodb-deployment-store.ts';
import { DynamoDbServerStore } from '../service/src/adapters/dynamodb-server-store.ts';
import { composeWorker } from '../service/src/composition.ts';
import { loadConfig } from '../service/src/config/config.ts';
import { type Deployment, isTerminal } from '../service/src/domain/deployment.ts';
import { createLogger } from '../service/src/logging/logger.ts';
import { systemClock } from '../service/src/ports/clock.ts';
import { startWorker } from '../service/src/worker/start-worker.ts';
import type { BenchSystem } from './bench-system.ts';
import type { DynamoCall } from './cost-model.ts';
import { countsOf, type RequestCounter } from './request-counter.ts';
import { percentile, round } from './stats.ts';

/**
 * The worker in this process, with the stack's environment (bench-system.ts `serviceEnv`: the
 * production defaults where the stack sets nothing, 10 consumers among them) and the request
 * counter's middleware on every client.
 */
export function startBenchWorker(env: Readonly<Record<string, string>>, counter: RequestCounter) {
  const config = loadConfig(env);
  const { clients, worker: deps } = composeWorker(config, createLogger('silent'), systemClock, [
    counter.plugin,
  ]);
  const worker = startWorker(config, clients.sqs, deps);
  return {
    concurrency: config.worker.concurrency,
    async stop() {
      await worker.stop(10_000);
      clients.destroy();
    },
  };
}

/** What a deployment run needs to send jobs and watch their records (not the service's clients). */
export interface DeploymentBed {
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBDocumentClient;
  readonly queueUrl: string;
  readonly deploymentsTable: string;
  readonly certificateArn: string;
}

export function bedOf(system: BenchSystem): DeploymentBed {
  return {
    sqs: system.clients.sqs,
    dynamodb: system.clients.dynamodb,
    queueUrl: system.provisioned.queueUrl,
    deploymentsTable: system.provisioned.names.deploymentsTable,
    certificateArn: system.certificateArn,
  };
}

function job(bed: DeploymentBed, jobId: string, certName: string, target: Target) {
  return {
    type: 'deploy',
    version: 1,
    jobId,
    certificateArn: bed.certificateArn,
    certName,
    target,
  };
}

/** The job's record, read through the service's own store (whatever layout it writes). */
async function record(bed: DeploymentBed, jobId: string): Promise<Deployment | undefined> {
  return new DynamoDbDeploymentStore(bed.dynamodb, bed.deploymentsTable).get(jobId);
}

async function waitTerminal(
  bed: DeploymentBed,
  jobId: string,
  timeoutMs: number,
  pollMs = 20,
): Promise<Deployment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await record(bed, jobId);
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
  const bed = bedOf(system);
  const overheads: number[] = [];
  const commandSeconds: number[] = [];
  for (let i = 0; i < samples; i++) {
    const jobId = `bench-lat-${String(i).padStart(4, '0')}`;
    const t0 = Date.now();
    await bed.sqs.send(
      new SendMessageCommand({
        QueueUrl: bed.queueUrl,
        MessageBody: JSON.stringify(job(bed, jobId, jobId, { key: 'env', value: target })),
      }),
    );
    const d = await waitTerminal(bed, jobId, 60_000);
    if (d.status !== 'Succeeded') throw new Error(`${jobId} ended ${d.status}: ${d.reason}`);
    const finished = Date.parse(d.finishedAt ?? '');
    const run = await serverRunMs(system, d);
    overheads.push(finished - t0 - run);
    commandSeconds.push((finished - Date.parse(d.dispatchedAt ?? d.createdAt)) / 1000);
  }
  return {
    figure: 'orchestration_overhead_ms',
    value: round(percentile(overheads, 50), 0),
    statistic: 'p50',
    p95: round(percentile(overheads, 95), 0),
    samples,
    original_mean_extra_wait: 7500,
    command_seconds_p50: round(percentile(commandSeconds, 50), 2),
  };
}

export interface Target {
  readonly key: string;
  readonly value: string;
}

/** One run of deployments sent at once, and what the service did for them. */
export interface DeploymentRun {
  readonly deployments: number;
  readonly seconds: number;
  readonly failed: number;
  readonly failureReasons: readonly string[];
  /** Requests by operation (answered, not throttled), over the whole run. */
  readonly requests: Readonly<Record<string, number>>;
  readonly throttled: Readonly<Record<string, number>>;
  readonly dynamo: readonly DynamoCall[];
  /** Servers the runs' commands went to: each reads the job's secret version once. */
  readonly serversReached: number;
  /** Median seconds from a job's command being sent to its end. */
  readonly commandSecondsP50: number;
}

/**
 * Sends one deployment job per certificate name at once (SendMessageBatch, 10 a call), waits for
 * every record to end and for every message to leave the queue, and returns what the counter
 * counted meanwhile. Job ids are `<prefix>-NNNN`.
 */
export async function runDeployments(
  bed: DeploymentBed,
  counter: RequestCounter,
  options: {
    readonly certNames: readonly string[];
    readonly target: Target;
    readonly jobPrefix: string;
    readonly timeoutMs?: number;
  },
): Promise<DeploymentRun> {
  counter.reset();
  const count = options.certNames.length;
  const ids = options.certNames.map((_, i) => `${options.jobPrefix}-${String(i).padStart(4, '0')}`);
  const t0 = Date.now();
  for (let i = 0; i < ids.length; i += 10) {
    await bed.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: bed.queueUrl,
        Entries: ids.slice(i, i + 10).map((id, j) => ({
          Id: String(j),
          MessageBody: JSON.stringify(job(bed, id, options.certNames[i + j] ?? id, options.target)),
        })),
      }),
    );
  }
  const done: Deployment[] = [];
  for (const id of ids) done.push(await waitTerminal(bed, id, options.timeoutMs ?? 600_000, 200));
  const last = Math.max(...done.map((d) => Date.parse(d.finishedAt ?? '')));
  // Each message leaves the queue once its outcome is recorded (the job's, and any other a job
  // brings, such as Run Command's status event): wait for at least one message deleted per job
  // (the worker deletes in batches: entries, not requests), then until no delete came for 1.5 s.
  const deletes = () => counter.messagesDeleted();
  const deadline = Date.now() + 30_000;
  let quietMs = 0;
  while (Date.now() < deadline && (deletes() < count || quietMs < 1500)) {
    const before = deletes();
    await sleep(250);
    quietMs = deletes() === before ? quietMs + 250 : 0;
  }
  const failed = done.filter((d) => d.status !== 'Succeeded');
  return {
    deployments: count,
    seconds: (last - t0) / 1000,
    failed: failed.length,
    failureReasons: [...new Set(failed.map((d) => `${d.status}: ${d.reason}`))].slice(0, 3),
    requests: countsOf(counter.counts),
    throttled: countsOf(counter.throttled),
    dynamo: [...counter.dynamo],
    serversReached: done.reduce((n, d) => n + (d.counts?.target ?? 0), 0),
    commandSecondsP50: percentile(
      done.map(
        (d) => (Date.parse(d.finishedAt ?? '') - Date.parse(d.dispatchedAt ?? d.createdAt)) / 1000,
      ),
      50,
    ),
  };
}

/**
 * Requests that follow a running command and the heartbeats that keep its message hidden: how
 * many depends on how long the servers take (instant here), so they are shown apart as well.
 */
export const statusLooks = [
  'AmazonSSM.ListCommands',
  'AmazonSSM.ListCommandInvocations',
  'AmazonSQS.ChangeMessageVisibility',
];

/** A run's throughput against ACM's export quota. */
export function throughputFigure(run: DeploymentRun, exportLimitPerSecond: number) {
  const rate = run.deployments / run.seconds;
  return {
    figure: 'throughput_share_of_export_limit',
    value: round(rate / exportLimitPerSecond, 3),
    deployments_per_second: round(rate, 2),
    export_limit_per_second: exportLimitPerSecond,
    deployments: run.deployments,
    failed: run.failed,
    seconds: round(run.seconds, 1),
    exports_throttled: run.throttled['CertificateManager.ExportCertificate'] ?? 0,
    failure_reasons: run.failureReasons,
  };
}

/** Requests per deployment of a run: every request the service made, over the deployments. */
export function requestsFigure(
  name: 'requests_first_deployment' | 'requests_repeat_deployment',
  run: DeploymentRun,
  extra: Record<string, unknown> = {},
) {
  const per = (n: number) => round(n / run.deployments, 2);
  const total = Object.values(run.requests).reduce((a, b) => a + b, 0);
  const looks = statusLooks.reduce((n, op) => n + (run.requests[op] ?? 0), 0);
  return {
    figure: name,
    value: per(total),
    without_status_looks: per(total - looks),
    deployments: run.deployments,
    failed: run.failed,
    by_operation: Object.fromEntries(Object.entries(run.requests).map(([op, n]) => [op, per(n)])),
    throttled_by_operation: Object.fromEntries(
      Object.entries(run.throttled).map(([op, n]) => [op, per(n)]),
    ),
    ...extra,
  };
}
