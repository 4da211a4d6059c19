import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeCertificateCommand, RenewCertificateCommand } from '@aws-sdk/client-acm';
import { RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Deployment, ServerResult } from '../../../src/domain/deployment.ts';
import { isTerminal } from '../../../src/domain/deployment.ts';
import type { RunningSystem } from '../../support/running-system.ts';

export async function enqueue(system: RunningSystem, body: unknown): Promise<string> {
  const out = await system.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: system.provisioned.queueUrl,
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
  return out.MessageId ?? '';
}

/** Waits until at least `count` jobs of the certificate were started by `trigger`; their ids. */
export async function jobsStartedBy(
  system: RunningSystem,
  certificateArn: string,
  trigger: Deployment['job']['trigger'],
  count: number,
  timeoutMs = 30_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await system.ports.deployments.listByCertificate(certificateArn, 50);
    const jobs = page.items.filter((x) => x.job.trigger === trigger).map((x) => x.job.jobId);
    if (jobs.length >= count || Date.now() > deadline) return jobs;
    await sleep(200);
  }
}

/** A finished job's record with its per-server results (items of their own). */
export type FinishedJob = Deployment & { readonly servers: readonly ServerResult[] };

/** Every per-server result of a job, all pages. */
export async function jobServers(system: RunningSystem, jobId: string): Promise<ServerResult[]> {
  const servers: ServerResult[] = [];
  let cursor: string | undefined;
  do {
    const page = await system.ports.servers.listJobResults(jobId, 100, cursor);
    servers.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return servers;
}

/** Waits until the job's record is terminal; returns it with its per-server results. */
export async function finished(
  system: RunningSystem,
  jobId: string,
  timeoutMs = 45_000,
): Promise<FinishedJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await system.ports.deployments.get(jobId);
    if (d !== undefined && isTerminal(d.status)) {
      return { ...d, servers: await jobServers(system, jobId) };
    }
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} not finished: ${JSON.stringify(d ?? null)}`);
    await sleep(100);
  }
}

export interface InstalledFile {
  readonly mode: string;
  readonly text: string;
}

/** A file as installed on a stand-in server (`<stateDir>/servers/<id>/<path>`). */
export async function installedFile(
  system: RunningSystem,
  instanceId: string,
  path: string,
): Promise<InstalledFile> {
  const full = join(system.standIn.stateDir, 'servers', instanceId, path);
  const s = await stat(full);
  return { mode: (s.mode & 0o777).toString(8), text: await readFile(full, 'utf8') };
}

export function serialOf(pem: string): string {
  return new X509Certificate(pem).serialNumber.toLowerCase();
}

/** Reads every message now on the DLQ (each is left in flight for the visibility timeout). */
export async function drainDeadLetters(
  system: RunningSystem,
  expected: number,
  timeoutMs = 20_000,
) {
  const found: { body: string; reason: string }[] = [];
  const deadline = Date.now() + timeoutMs;
  while (found.length < expected && Date.now() < deadline) {
    const { Messages } = await system.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: system.provisioned.deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    for (const m of Messages ?? []) {
      found.push({ body: m.Body ?? '', reason: m.MessageAttributes?.reason?.StringValue ?? '' });
    }
  }
  return found;
}

/**
 * Renews the certificate in the bed with its renewal event dropped on purpose (the renewal rule
 * delivers it nowhere, as ACM's best-effort delivery sometimes does); returns the new serial.
 */
export async function renewWithoutEvent(system: RunningSystem, arn: string): Promise<string> {
  await system.clients.eventbridge.send(
    new RemoveTargetsCommand({ Rule: system.provisioned.names.ruleName, Ids: ['job-queue'] }),
  );
  await system.clients.acm.send(new RenewCertificateCommand({ CertificateArn: arn }));
  const { Certificate } = await system.clients.acm.send(
    new DescribeCertificateCommand({ CertificateArn: arn }),
  );
  return Certificate?.Serial ?? '';
}
