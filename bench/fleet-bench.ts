import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbServerStore } from '../service/src/adapters/dynamodb-server-store.ts';
import {
  type Deployment,
  isTerminal,
  type ServerResult,
} from '../service/src/domain/deployment.ts';
import type { BenchSystem } from './bench-system.ts';
import { round } from './stats.ts';

/** Requests the service made since the proxies were reset, by operation. */
function requests(system: BenchSystem): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of [...system.aws.counts, ...system.ssmProxy.counts]) out[op] = n;
  return out;
}

/** Idle long polls are the worker waiting, not work: left out of the totals. */
function total(byOperation: Record<string, number>): number {
  return Object.entries(byOperation)
    .filter(([op]) => !op.endsWith('.ReceiveMessage'))
    .reduce((sum, [, n]) => sum + n, 0);
}

async function recordOf(system: BenchSystem, jobId: string) {
  const out = await system.clients.dynamodb.send(
    new GetCommand({
      TableName: system.provisioned.names.deploymentsTable,
      Key: { JobId: jobId },
      ConsistentRead: true,
    }),
  );
  return out.Item as { Data: Deployment } | undefined;
}

async function untilTerminal(system: BenchSystem, jobId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const item = await recordOf(system, jobId);
    if (item !== undefined && isTerminal(item.Data.status)) return item;
    if (Date.now() > deadline) throw new Error(`${jobId} did not finish in ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** Waits until nothing is waiting, in flight or delayed on the job queue (twice in a row). */
async function untilQueueIdle(system: BenchSystem, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 2) {
    if (Date.now() > deadline) throw new Error('the job queue did not drain');
    const { Attributes } = await system.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: system.provisioned.queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const busy = Object.values(Attributes ?? {}).some((v) => v !== '0');
    quiet = busy ? 0 : quiet + 1;
    await sleep(500);
  }
}

/** Every per-server item of a job, all pages, and the size of the largest as stored. */
async function jobItems(system: BenchSystem, jobId: string) {
  const store = new DynamoDbServerStore(
    system.clients.dynamodb,
    system.provisioned.names.serversTable,
  );
  const items: ServerResult[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listJobResults(jobId, 100, cursor);
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return items;
}

/**
 * One deployment to every server of a large fleet (instant stand-in servers: the orchestration,
 * not openssl): time, AWS requests by operation, and the largest DynamoDB item it wrote.
 */
export async function measureFleetDeployment(system: BenchSystem, target: string, servers: number) {
  system.aws.reset();
  system.ssmProxy.reset();
  const jobId = 'bench-fleet-0001';
  const t0 = Date.now();
  await system.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: system.provisioned.queueUrl,
      MessageBody: JSON.stringify({
        type: 'deploy',
        version: 1,
        jobId,
        certificateArn: system.certificateArn,
        certName: 'fleet',
        target: { key: 'env', value: target },
      }),
    }),
  );
  const item = await untilTerminal(system, jobId, 30 * 60_000);
  const seconds = (Date.parse(item.Data.finishedAt ?? '') - t0) / 1000;
  const byOperation = requests(system);
  const results = await jobItems(system, jobId);
  const largestServerItem = Math.max(
    ...results.map(
      (r) => JSON.stringify({ Owner: `job#${jobId}`, InstanceId: r.instanceId, Data: r }).length,
    ),
  );
  return {
    figure: 'fleet_deployment',
    value: round(seconds, 1),
    unit: 'seconds',
    servers,
    status: item.Data.status,
    server_results: results.length,
    succeeded: results.filter((r) => r.status === 'Success').length,
    seconds: round(seconds, 1),
    requests_total: total(byOperation),
    requests_by_operation: byOperation,
    largest_item_bytes: {
      deployment_record: JSON.stringify(item).length,
      server_item: largestServerItem,
      dynamodb_item_limit: 400 * 1024,
    },
  };
}

/**
 * One mapping's reconciliation when every server already holds the certificate: the requests a
 * sweep costs per mapping of N servers (target: a small constant plus one per 50 servers).
 */
export async function measureSweep(
  system: BenchSystem,
  mapping: { target: string; certName: string },
  servers: number,
) {
  await untilQueueIdle(system, 60_000);
  system.aws.reset();
  system.ssmProxy.reset();
  await system.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: system.provisioned.queueUrl,
      MessageBody: JSON.stringify({
        type: 'reconcile-mapping',
        version: 1,
        sweepId: `bench-sweep-${mapping.target}`,
        certificateArn: system.certificateArn,
        certName: mapping.certName,
        target: { key: 'env', value: mapping.target },
      }),
    }),
  );
  await untilQueueIdle(system, 5 * 60_000);
  const byOperation = requests(system);
  const jobsQueued = Math.max(0, byOperation['AmazonSQS.SendMessage'] ?? 0);
  return {
    figure: 'sweep_requests_per_mapping',
    value: total(byOperation),
    // A small constant plus one per 50 servers.
    target: round(6 + servers / 50, 0),
    better: 'lower',
    servers,
    requests_by_operation: byOperation,
    jobs_queued: jobsQueued,
  };
}
