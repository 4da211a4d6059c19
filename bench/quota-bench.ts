/**
 * One export quota shared by several worker tasks (issue 13, target 3): `tasks` worker
 * processes (`node service/src/main.ts`, API off, production defaults) against the test bed's
 * account-wide ExportCertificate limit of 5 per second — ONE counting proxy in front of the
 * emulator for all of them, as one AWS account — consume `deployments` jobs of distinct mappings
 * on an instant server. What counts: the exports per second the processes reach together, the
 * jobs that failed, and the share of ExportCertificate calls the bed throttled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { exportQuotaKey } from '../service/src/adapters/dynamodb-export-quota-leases.ts';
import { type Deployment, isTerminal } from '../service/src/domain/deployment.ts';
import { addServers, type BenchSystem } from './bench-system.ts';
import { round } from './stats.ts';

const exportOperation = 'CertificateManager.ExportCertificate';
const exportLimitPerSecond = 5;
const repoRoot = join(import.meta.dirname, '..');

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly started: Promise<void>;
  readonly exited: Promise<number | null>;
  /** Lines the process logged with these messages, counted. */
  readonly seen: Map<string, number>;
}

/** One worker task as production runs it (API off), its AWS calls through the bed's proxies. */
function startWorkerProcess(system: BenchSystem, name: string): WorkerProcess {
  const child = spawn(process.execPath, ['service/src/main.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      ...system.serviceEnv,
      API_ENABLED: 'false',
      WORKER_ENABLED: 'true',
      AUTH_MODE: 'none',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seen = new Map<string, number>();
  let onStart: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    onStart = resolve;
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let msg: unknown;
    try {
      msg = (JSON.parse(line) as { msg?: unknown }).msg;
    } catch {
      return;
    }
    if (typeof msg !== 'string') return;
    if (process.env.QUOTA_BENCH_TRACE === '1' && /quota|throttled/.test(msg)) {
      console.error(`${new Date().toISOString().slice(11, 23)} ${name} ${line}`);
    }
    const key = msg.replace(/\d+ tasks?/, 'N tasks');
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (msg === 'worker started') onStart();
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`${name} exited ${code}: ${stderr.join('')}`);
      resolve(code);
    });
  });
  return { child, started, exited, seen };
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

async function waitTerminal(system: BenchSystem, jobId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
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
    if (Date.now() > deadline) throw new Error(`${jobId} did not finish: ${d?.status ?? 'none'}`);
    await sleep(200);
  }
}

interface Run {
  readonly exports: number;
  readonly throttled: number;
  readonly exportRate: number;
  readonly windowSeconds: number;
  readonly endToEnd: number;
  readonly failed: readonly Deployment[];
  readonly perTask: readonly number[];
  readonly slowdowns: number;
  /** UpdateItem requests on the quota's item: claims, renewals and releases. */
  readonly quotaRequests: number;
}

/**
 * Starts `tasks` worker processes, waits until each receives, queues `deployments` jobs at
 * once and follows the proxy's ExportCertificate count (every 50 ms) until every job ended.
 */
async function run(
  system: BenchSystem,
  tasks: number,
  deployments: number,
  target: string,
  prefix: string,
): Promise<Run> {
  const workers = Array.from({ length: tasks }, (_, i) =>
    startWorkerProcess(system, `worker ${i + 1}`),
  );
  try {
    await Promise.all(workers.map((w) => w.started));
    system.aws.reset();
    system.ssmProxy.reset();
    const ids = Array.from(
      { length: deployments },
      (_, i) => `${prefix}-${String(i).padStart(4, '0')}`,
    );
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
    // The proxy's count of exports it let through, sampled: first and last export's time.
    let first: number | undefined;
    let atFirst = 0;
    let last: number | undefined;
    let seenCount = 0;
    let following = true;
    const follower = (async () => {
      while (following) {
        const n = system.aws.counts.get(exportOperation) ?? 0;
        const now = Date.now();
        if (n > 0 && first === undefined) {
          first = now;
          atFirst = n;
        }
        if (n > seenCount) {
          seenCount = n;
          last = now;
        }
        await sleep(50);
      }
    })();
    const done: Deployment[] = [];
    try {
      for (const id of ids) done.push(await waitTerminal(system, id, 600_000));
    } finally {
      following = false;
      await follower;
    }
    const finished = Math.max(...done.map((d) => Date.parse(d.finishedAt ?? '')));
    const exports = system.aws.counts.get(exportOperation) ?? 0;
    const windowSeconds = first === undefined || last === undefined ? 0 : (last - first) / 1000;
    const quotaItem = exportQuotaKey(system.serviceEnv.AWS_REGION ?? 'us-east-1');
    const table = system.provisioned.names.deploymentsTable;
    return {
      quotaRequests:
        system.aws.byTable.get(`DynamoDB_20120810.UpdateItem ${table} ${quotaItem}`) ?? 0,
      exports,
      throttled: system.aws.throttled.get(exportOperation) ?? 0,
      // The exports after the first sample that saw any, over the time to the sample that saw
      // the last: a late sample at the start cannot inflate the rate, one at the end lowers it.
      exportRate: windowSeconds > 0 ? (exports - atFirst) / windowSeconds : 0,
      windowSeconds,
      endToEnd: deployments / ((finished - t0) / 1000),
      failed: done.filter((d) => d.status !== 'Succeeded'),
      // Who exported: each process's install commands sent (one per job, right after its export).
      perTask: workers.map((w) => w.seen.get('install command sent') ?? 0),
      slowdowns: workers.reduce(
        (n, w) => n + (w.seen.get('ExportCertificate throttled: this task slows down') ?? 0),
        0,
      ),
    };
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
  }
}

/**
 * The figures: `tasks` processes sharing the limit. With `control`, one process alone first,
 * on the same bed and the same number of jobs: what this machine reaches when nothing is
 * shared, printed beside the shared figure (a machine too busy to keep the exports coming
 * shows here, not as a fault of the sharing).
 */
export async function measureSharedQuota(
  system: BenchSystem,
  options: { tasks: number; deployments: number; control?: boolean; target?: string },
) {
  const target = options.target ?? 'bench-quota';
  await addServers(system.clients.ec2, target, 1, 'instant');
  const loadBefore = round(loadavg()[0] ?? 0, 2);
  const alone =
    options.control === true
      ? await run(system, 1, options.deployments, target, 'bench-quota-alone')
      : undefined;
  const shared = await run(system, options.tasks, options.deployments, target, 'bench-quota');
  const common = {
    tasks: options.tasks,
    deployments: options.deployments,
    export_limit_per_second: exportLimitPerSecond,
    load_average_1m_before: loadBefore,
    load_average_1m_after: round(loadavg()[0] ?? 0, 2),
    cpus: cpus().length,
  };
  return [
    {
      figure: 'shared_quota_export_share',
      value: round(shared.exportRate / exportLimitPerSecond, 3),
      target: 0.95,
      better: 'higher',
      failed: shared.failed.length,
      exports_per_second: round(shared.exportRate, 2),
      exports: shared.exports,
      export_window_seconds: round(shared.windowSeconds, 1),
      jobs_dispatched_per_task: shared.perTask,
      deployments_per_second_end_to_end: round(shared.endToEnd, 2),
      ...(alone === undefined
        ? {}
        : {
            one_task_alone_share: round(alone.exportRate / exportLimitPerSecond, 3),
            one_task_alone_throttled: alone.throttled,
            one_task_alone_failed: alone.failed.length,
          }),
      ...common,
    },
    {
      figure: 'shared_quota_failed',
      value: shared.failed.length,
      target: 0,
      better: 'lower',
      failure_reasons: [...new Set(shared.failed.map((d) => `${d.status}: ${d.reason}`))].slice(
        0,
        3,
      ),
      ...common,
    },
    {
      figure: 'shared_quota_throttled_share',
      value: round(shared.throttled / Math.max(1, shared.exports + shared.throttled), 4),
      target: 0.02,
      better: 'lower',
      throttled_export_calls: shared.throttled,
      export_calls: shared.exports + shared.throttled,
      slowdowns_logged: shared.slowdowns,
      quota_item_requests: shared.quotaRequests,
      quota_item_requests_per_deployment: round(shared.quotaRequests / options.deployments, 3),
      ...common,
    },
  ];
}
