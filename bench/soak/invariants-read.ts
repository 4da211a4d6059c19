/**
 * What the invariants read from the bed, straight from moto and the Run Command stand-in (never
 * through the fault proxies): whole tables a page at a time (one Scan of each, never a request
 * per job), every command and invocation, the queues' counts, the dead letters (read and left
 * on their queue), the passphrase secrets' versions, the instances, ACM's serials, and what each
 * server holds.
 */
import { type ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Deployment, ServerResult } from '../../service/src/domain/deployment.ts';
import type { CommandLedger, InvocationView, LedgerCommand } from './invariants-model.ts';
import type { HeldSerialReader, Instance, ManagedMapping } from './invariants-servers.ts';
import { heldKey, shouldHold } from './invariants-servers.ts';
import type { DeadLetter, HeldLock, QueueDepth, SecretVersions } from './invariants-state.ts';

type Item = Record<string, unknown>;

/**
 * Every page of a listing: `call` gets the previous page's token (undefined first). Written out
 * rather than the SDK's paginators, which refuse a client built from another copy of its module.
 */
async function* pages<T extends { NextToken?: string | undefined }>(
  call: (token: string | undefined) => Promise<T>,
): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const page = await call(token);
    yield page;
    token = page.NextToken === '' ? undefined : page.NextToken;
  } while (token !== undefined);
}

async function scanAll(db: DynamoDBDocumentClient, table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await db.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Every deployment record (the export quota's item, `#export-quota#…`, left out). */
export async function readDeployments(db: DynamoDBDocumentClient, table: string) {
  return (await scanAll(db, table))
    .filter((i) => !String(i.JobId).startsWith('#') && i.Data !== undefined)
    .map((i) => i.Data as Deployment);
}

/** Every job's per-server results (items `job#<jobId>` of the servers table), by job id. */
export async function readServerItems(db: DynamoDBDocumentClient, table: string) {
  const byJob = new Map<string, ServerResult[]>();
  for (const i of await scanAll(db, table)) {
    const owner = String(i.Owner);
    if (!owner.startsWith('job#')) continue;
    const jobId = owner.slice('job#'.length);
    const list = byJob.get(jobId) ?? [];
    list.push(i.Data as ServerResult);
    byJob.set(jobId, list);
  }
  return byJob;
}

/** The mapping table: how many items, the locks held on them, the mappings (lock-only items aside). */
export async function readMappingTable(db: DynamoDBDocumentClient, table: string) {
  const items = await scanAll(db, table);
  const locks: HeldLock[] = [];
  const mappings: Omit<ManagedMapping, 'acmSerial'>[] = [];
  for (const i of items) {
    if (typeof i.LockJobId === 'string') {
      locks.push({
        item: `${String(i.TagKeyValue)} ${String(i['CertificateArn#CertName']).split('/').pop()}`,
        jobId: i.LockJobId,
        until: String(i.LockUntil ?? ''),
      });
    }
    if (typeof i.CertName !== 'string') continue;
    const install = (i.Install ?? {}) as { certDir?: string };
    mappings.push({
      certificateArn: String(i.CertificateArn),
      certName: i.CertName,
      target: { key: String(i.TargetTagKey), value: String(i.TargetTagValue) },
      certDir: install.certDir ?? '/etc/ssl/certs',
    });
  }
  return { items: items.length, locks, mappings };
}

/**
 * Every command the stand-in holds, with its invocations (ListCommands and
 * ListCommandInvocations, every page). The soak takes one before each restart of the stand-in,
 * which keeps commands in memory only, and gives them to the checks (`commandSnapshots`).
 */
export async function collectCommands(ssm: SSMClient): Promise<CommandLedger> {
  const invocations = new Map<string, InvocationView[]>();
  for await (const page of pages((NextToken) =>
    ssm.send(new ListCommandInvocationsCommand({ NextToken })),
  )) {
    for (const i of page.CommandInvocations ?? []) {
      const list = invocations.get(i.CommandId ?? '') ?? [];
      list.push({
        instanceId: i.InstanceId ?? '',
        status: i.Status ?? '',
        statusDetails: i.StatusDetails ?? '',
      });
      invocations.set(i.CommandId ?? '', list);
    }
  }
  const ledger = new Map<string, LedgerCommand>();
  for await (const page of pages((NextToken) => ssm.send(new ListCommandsCommand({ NextToken })))) {
    for (const c of page.Commands ?? []) {
      const commandId = c.CommandId ?? '';
      ledger.set(commandId, {
        commandId,
        comment: c.Comment ?? '',
        documentName: c.DocumentName ?? '',
        status: c.Status ?? '',
        invocations: invocations.get(commandId) ?? [],
      });
    }
  }
  return ledger;
}

/**
 * One ledger from snapshots (oldest first) and the final listing: a command the final listing
 * lacks (a stand-in restart forgot it) is kept as last seen, marked `lost`.
 */
export function mergeLedgers(
  snapshots: readonly CommandLedger[],
  final: CommandLedger,
): CommandLedger {
  const merged = new Map<string, LedgerCommand>();
  for (const snapshot of snapshots) {
    for (const [id, c] of snapshot) merged.set(id, { ...c, lost: true });
  }
  for (const [id, c] of final) merged.set(id, c);
  return merged;
}

export async function readQueueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    notVisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/**
 * Every message on the dead-letter queue, read and left there: received with a visibility
 * timeout until receives bring nothing new, then all made visible again at once.
 */
export async function peekDeadLetters(sqs: SQSClient, queueUrl: string): Promise<DeadLetter[]> {
  const found = new Map<string, DeadLetter>();
  const handles: string[] = [];
  try {
    for (let empty = 0; empty < 3; ) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      let fresh = 0;
      for (const m of Messages) {
        if (m.ReceiptHandle !== undefined) handles.push(m.ReceiptHandle);
        const id = m.MessageId ?? '';
        if (found.has(id)) continue;
        fresh++;
        const attr = (name: string) => m.MessageAttributes?.[name]?.StringValue;
        const reason = attr('reason');
        const originalMessageId = attr('originalMessageId');
        found.set(id, {
          messageId: id,
          body: m.Body ?? '',
          ...(reason === undefined ? {} : { reason }),
          ...(originalMessageId === undefined ? {} : { originalMessageId }),
        });
      }
      empty = fresh === 0 ? empty + 1 : 0;
    }
  } finally {
    for (let i = 0; i < handles.length; i += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: handles.slice(i, i + 10).map((h, n) => ({
            Id: String(n),
            ReceiptHandle: h,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  return [...found.values()];
}

/** Every passphrase secret (those scheduled for deletion too) and the ids of its versions. */
export async function readSecretVersions(
  secrets: SecretsManagerClient,
  prefix: string,
): Promise<SecretVersions[]> {
  const out: SecretVersions[] = [];
  for await (const page of pages((NextToken) =>
    secrets.send(
      new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [prefix] }],
        IncludePlannedDeletion: true,
        NextToken,
      }),
    ),
  )) {
    for (const s of page.SecretList ?? []) {
      const name = s.Name ?? '';
      if (!name.startsWith(prefix)) continue;
      const versions = await secrets.send(
        new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
      );
      out.push({ name, versionIds: (versions.Versions ?? []).map((v) => v.VersionId ?? '') });
    }
  }
  return out;
}

export async function readInstances(ec2: EC2Client): Promise<Instance[]> {
  const out: Instance[] = [];
  for await (const page of pages((NextToken) =>
    ec2.send(new DescribeInstancesCommand({ NextToken })),
  )) {
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        out.push({
          instanceId: i.InstanceId ?? '',
          state: i.State?.Name ?? '',
          tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
        });
      }
    }
  }
  return out;
}

/** ACM's current serial of each mapping's certificate (one DescribeCertificate per certificate). */
export async function withAcmSerials(
  acm: ACMClient,
  mappings: readonly Omit<ManagedMapping, 'acmSerial'>[],
): Promise<ManagedMapping[]> {
  const serials = new Map<string, string | undefined>();
  for (const arn of new Set(mappings.map((m) => m.certificateArn))) {
    try {
      const { Certificate } = await acm.send(
        new DescribeCertificateCommand({ CertificateArn: arn }),
      );
      serials.set(arn, Certificate?.Serial);
    } catch {
      serials.set(arn, undefined);
    }
  }
  return mappings.map((m) => ({ ...m, acmSerial: serials.get(m.certificateArn) }));
}

/** What each server that should hold a mapping's certificate holds, by `heldKey`. */
export async function readHeld(
  standInStateDir: string,
  mappings: readonly ManagedMapping[],
  instances: readonly Instance[],
  reader: HeldSerialReader,
): Promise<Map<string, string | undefined>> {
  const held = new Map<string, string | undefined>();
  for (const m of mappings) {
    for (const i of instances) {
      if (!shouldHold(i, m)) continue;
      held.set(heldKey(i.instanceId, m), await reader(standInStateDir, i.instanceId, m));
    }
  }
  return held;
}
