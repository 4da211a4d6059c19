/**
 * After the traffic and the faults stop, the run settles: the queue empties (messages in
 * flight, delayed or waiting: instance jobs wait INSTANCE_SETTLE_SECONDS, jobs behind another
 * on the same mapping LOCK_RETRY_SECONDS) and every deployment record reaches a terminal
 * status. Waits until both hold on two looks in a row, or the time is up (the checks then say
 * what was left).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { terminalStatuses } from '../../service/src/domain/deployment.ts';
import { readQueueDepth } from './invariants-read.ts';
import type { SoakBed } from './soak-bed.ts';

export interface Unsettled {
  readonly messages: number;
  readonly unfinishedJobs: number;
}

export async function unsettled(bed: SoakBed): Promise<Unsettled> {
  const depth = await readQueueDepth(bed.clients.sqs, bed.provisioned.queueUrl);
  const messages = depth.visible + depth.notVisible + depth.delayed;
  const unfinishedJobs = Object.entries(await jobStatuses(bed))
    .filter(([status]) => !terminalStatuses.has(status as never))
    .reduce((a, [, n]) => a + n, 0);
  return { messages, unfinishedJobs };
}

/** Waits until settled (two looks in a row); the last look's figures and how long it took. */
export async function drain(
  bed: SoakBed,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<{ settled: boolean; ms: number; last: Unsettled }> {
  const start = Date.now();
  let quietLooks = 0;
  let last: Unsettled = { messages: -1, unfinishedJobs: -1 };
  let lastLogged = 0;
  while (Date.now() - start < timeoutMs) {
    last = await unsettled(bed);
    quietLooks = last.messages === 0 && last.unfinishedJobs === 0 ? quietLooks + 1 : 0;
    if (quietLooks >= 2) return { settled: true, ms: Date.now() - start, last };
    if (Date.now() - lastLogged > 15_000) {
      log(
        `draining: ${last.messages} messages on the queue, ${last.unfinishedJobs} jobs not finished`,
      );
      lastLogged = Date.now();
    }
    await sleep(3000);
  }
  return { settled: false, ms: Date.now() - start, last };
}

/** How many deployment records end in each status. */
export async function jobStatuses(bed: SoakBed): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const page of paginateScan(
    { client: bed.clients.dynamodb },
    {
      TableName: bed.provisioned.names.deploymentsTable,
      ProjectionExpression: '#s',
      ExpressionAttributeNames: { '#s': 'Status' },
    },
  )) {
    for (const item of page.Items ?? []) {
      const status = item.Status as string | undefined;
      if (status !== undefined) counts[status] = (counts[status] ?? 0) + 1;
    }
  }
  return counts;
}
