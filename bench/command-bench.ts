/**
 * Servers that take time (issue 13, points 2 and 4): stand-in servers tagged
 * `standin:behaviour=instant` and `standin:run-ms` answer after a fixed run time without costing
 * this machine any work, as other machines would.
 *
 * - `throughput_with_slow_servers`: deployments whose single server takes 3 s each, sent at once,
 *   at the production consumer count: the share of ACM's export quota they reach. A consumer held
 *   while a command runs would cap it near consumers / (3 s + the rest).
 * - `long_command_overhead_ms` (30 s and 120 s commands, several at once): from the job on the
 *   queue to its recorded end, minus the server's run, p50; and the status calls
 *   (ListCommands) per command per 5 s of its run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommandInvocationCommand, ListCommandInvocationsCommand } from '@aws-sdk/client-ssm';
import { DynamoDbDeploymentStore } from '../service/src/adapters/dynamodb-deployment-store.ts';
import { type Deployment, isTerminal } from '../service/src/domain/deployment.ts';
import type { BenchSystem } from './bench-system.ts';
import type { RequestCounter } from './request-counter.ts';
import { percentile, round } from './stats.ts';
import { bedOf, runDeployments } from './worker-bench.ts';

/** Starts `count` instant stand-in servers tagged env=`value` that each take `runMs`. */
export async function addTimedServers(
  system: BenchSystem,
  value: string,
  count: number,
  runMs: number,
): Promise<void> {
  await system.clients.ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'env', Value: value },
            { Key: 'standin:behaviour', Value: 'instant' },
            { Key: 'standin:run-ms', Value: String(runMs) },
          ],
        },
      ],
    }),
  );
}

/** When each job's export was recorded (its `Exported` condition), epoch ms. */
async function exportTimes(system: BenchSystem, jobIds: readonly string[]): Promise<number[]> {
  const bed = bedOf(system);
  const store = new DynamoDbDeploymentStore(bed.dynamodb, bed.deploymentsTable);
  const times: number[] = [];
  for (const id of jobIds) {
    const d = await store.get(id);
    const at = d?.conditions.find((c) => c.type === 'Exported')?.lastTransitionTime;
    if (at !== undefined) times.push(Date.parse(at));
  }
  return times;
}

/**
 * Deployments to one 3-s server each (new mappings), sent at once: the rate of their exports
 * from the first job sent to the last export recorded, against ACM's quota of 5 per second —
 * whether the service keeps the quota busy while earlier commands run. The deployments' own
 * rate (to the last recorded end, which adds the last command's 3 s) is printed beside it.
 */
export async function measureSlowServers(
  system: BenchSystem,
  counter: RequestCounter,
  options: { deployments: number; consumers: number; target: string },
) {
  const certNames = Array.from(
    { length: options.deployments },
    (_, i) => `bench-slow-${String(i).padStart(4, '0')}`,
  );
  const sentAt = Date.now();
  const run = await runDeployments(bedOf(system), counter, {
    certNames,
    target: { key: 'env', value: options.target },
    jobPrefix: 'bench-slow',
  });
  const ids = certNames.map((_, i) => `bench-slow-${String(i).padStart(4, '0')}`);
  const exported = await exportTimes(system, ids);
  const exportSeconds = (Math.max(...exported) - sentAt) / 1000;
  const exportRate = exported.length / exportSeconds;
  const rate = run.deployments / run.seconds;
  return {
    figure: 'throughput_with_slow_servers',
    value: round(exportRate / 5, 3),
    target_min: 0.95,
    measured_as: 'exports per second from the first job sent to the last export, over 5',
    server_seconds: 3,
    consumers: options.consumers,
    exports_per_second: round(exportRate, 2),
    deployments_per_second: round(rate, 2),
    deployments: run.deployments,
    failed: run.failed,
    seconds: round(run.seconds, 1),
    command_seconds_p50: round(run.commandSecondsP50, 2),
    exports_throttled: run.throttled['CertificateManager.ExportCertificate'] ?? 0,
    failure_reasons: run.failureReasons,
  };
}

/**
 * `jobs` deployments at once (distinct mappings) to a server that takes `runSeconds`: the
 * orchestration overhead of each (queue → recorded end, minus the server's run) and the status
 * calls per command per 5 s.
 */
export async function measureLongCommands(
  system: BenchSystem,
  counter: RequestCounter,
  options: { jobs: number; runSeconds: number; target: string },
) {
  const bed = bedOf(system);
  const store = new DynamoDbDeploymentStore(bed.dynamodb, bed.deploymentsTable);
  const prefix = `bench-long-${options.runSeconds}`;
  const ids = Array.from({ length: options.jobs }, (_, i) => `${prefix}-${i}`);
  counter.reset();
  const sentAt = Date.now();
  await bed.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: bed.queueUrl,
      Entries: ids.map((id, i) => ({
        Id: String(i),
        MessageBody: JSON.stringify({
          type: 'deploy',
          version: 1,
          jobId: id,
          certificateArn: bed.certificateArn,
          certName: id,
          target: { key: 'env', value: options.target },
        }),
      })),
    }),
  );
  const done: Deployment[] = [];
  const deadline = Date.now() + (options.runSeconds + 120) * 1000;
  for (const id of ids) {
    for (;;) {
      const d = await store.get(id);
      if (d !== undefined && isTerminal(d.status)) {
        done.push(d);
        break;
      }
      if (Date.now() > deadline) throw new Error(`${id} did not finish: ${d?.status}`);
      await sleep(200);
    }
  }
  const overheads: number[] = [];
  let runSeconds = 0;
  for (const d of done) {
    const server = d.counts?.target === 1 ? await firstServer(system, d) : undefined;
    const run =
      server === undefined
        ? 0
        : Date.parse(server.ExecutionEndDateTime ?? '') -
          Date.parse(server.ExecutionStartDateTime ?? '');
    runSeconds += run / 1000;
    overheads.push(Date.parse(d.finishedAt ?? '') - sentAt - run);
  }
  const statusCalls = counter.counts.get('AmazonSSM.ListCommands') ?? 0;
  const failed = done.filter((d) => d.status !== 'Succeeded');
  return {
    figure: `long_command_overhead_ms_${options.runSeconds}s`,
    value: round(percentile(overheads, 50), 0),
    statistic: 'p50',
    target_max: 2000,
    max: round(Math.max(...overheads), 0),
    jobs: options.jobs,
    failed: failed.length,
    failure_reasons: [...new Set(failed.map((d) => `${d.status}: ${d.reason}`))].slice(0, 3),
    status_calls: statusCalls,
    status_calls_per_command_per_5s: round(statusCalls / Math.max(1, runSeconds / 5), 3),
    status_calls_target_max: 1,
    results_listed: counter.counts.get('AmazonSSM.ListCommandInvocations') ?? 0,
  };
}

async function firstServer(system: BenchSystem, d: Deployment) {
  const { CommandInvocations } = await system.clients.ssm.send(
    new ListCommandInvocationsCommand({ CommandId: d.commandId }),
  );
  const instanceId = CommandInvocations?.[0]?.InstanceId;
  if (instanceId === undefined) return undefined;
  return system.clients.ssm.send(
    new GetCommandInvocationCommand({ CommandId: d.commandId, InstanceId: instanceId }),
  );
}
