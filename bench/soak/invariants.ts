/**
 * The soak's end-of-run invariants (issue 16 point 3), one summary line each, checked against
 * the bed itself (moto and the Run Command stand-in, not through the fault proxies) once the run
 * has drained:
 *
 * 1. every job reached an outcome matching its servers (invariants-jobs.ts `jobOutcomes`)
 * 2. at most one SendCommand per job and canary phase (`commandsPerJob`)
 * 3. no message left on the job queue (invariants-state.ts `queueEmpty`)
 * 4. no mapping lock held (`noLockHeld`)
 * 5. a secret version per export at most (`versionPerExport`)
 * 6. the dead-letter queue holds only jobs that say why (`deadLettersSayWhy`)
 * 7. no secret in any log line (invariants-logs.ts `noSecretInLogs`; the soak gathers the
 *    secrets as it runs with `collectSecrets`)
 * 8. every server that should hold a certificate holds the newest (invariants-servers.ts)
 *
 * A check that cannot read what it needs fails its line, saying why.
 */
import type { ACMClient } from '@aws-sdk/client-acm';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Deployment } from '../../service/src/domain/deployment.ts';
import { commandsPerJob, jobOutcomes } from './invariants-jobs.ts';
import { collectSecrets, noSecretInLogs, type SecretHarvest } from './invariants-logs.ts';
import {
  type AcceptedJob,
  type CommandLedger,
  type InvariantLine,
  invariantLine,
} from './invariants-model.ts';
import {
  collectCommands,
  mergeLedgers,
  peekDeadLetters,
  readDeployments,
  readHeld,
  readInstances,
  readMappingTable,
  readQueueDepth,
  readSecretVersions,
  readServerItems,
  withAcmSerials,
} from './invariants-read.ts';
import { type HeldSerialReader, readHeldSerial, serversHoldNewest } from './invariants-servers.ts';
import { deadLettersSayWhy, noLockHeld, queueEmpty, versionPerExport } from './invariants-state.ts';

export { collectSecrets, newSecretHarvest, type SecretHarvest } from './invariants-logs.ts';
export type {
  AcceptedJob,
  AcceptedVia,
  CommandLedger,
  InvariantLine,
  MappingRef,
} from './invariants-model.ts';
export { collectCommands } from './invariants-read.ts';
export { type HeldSerialReader, readHeldSerial } from './invariants-servers.ts';

/** The bed as the checks read it: clients straight to moto and the stand-in (no fault proxy). */
export interface InvariantBed {
  readonly clients: {
    readonly dynamodb: DynamoDBDocumentClient;
    readonly sqs: SQSClient;
    /** Pointed at the Run Command stand-in. */
    readonly ssm: SSMClient;
    readonly acm: ACMClient;
    readonly ec2: EC2Client;
    readonly secrets: SecretsManagerClient;
  };
  readonly provisioned: {
    readonly names: {
      readonly mappingTable: string;
      readonly deploymentsTable: string;
      readonly serversTable: string;
    };
    readonly queueUrl: string;
    readonly deadLetterQueueUrl: string;
  };
  /** The stand-in's state directory: `<dir>/servers/<instance id>/` is each server's root. */
  readonly standInStateDir: string;
  /** The service's SECRET_PREFIX (default `acm-passphrase/`). */
  readonly secretPrefix?: string;
}

/** What the soak did and gathered, for the checks. */
export interface SoakRecord {
  /** Every job id the soak was answered with (or gave, or derived from a queue message id). */
  readonly accepted: readonly AcceptedJob[];
  /** Every process's log file (pino JSON lines; any text works). */
  readonly logFiles: readonly string[];
  /**
   * The run's secrets, as `collectSecrets` gathered them during the run (`newSecretHarvest()`);
   * the check collects once more, and fails when a version was never read (it was scheduled for
   * deletion first: its secrets could not be looked for).
   */
  readonly secrets: SecretHarvest;
  /** `collectCommands` taken before each restart of the stand-in, oldest first. */
  readonly commandSnapshots?: readonly CommandLedger[];
  /** ExportCertificate requests the bed's counting proxy saw (`counts`), when known. */
  readonly exportCalls?: number;
}

export interface CheckOptions {
  /** Reads the serial a server holds for a mapping (default: its fullchain file). */
  readonly readHeldSerial?: HeldSerialReader;
}

const names = [
  'every job reached an outcome matching its servers',
  'at most one SendCommand per job (and canary phase)',
  'no message left on the job queue',
  'no mapping lock held',
  'a secret version per export at most',
  'the dead-letter queue holds only jobs that say why',
  'no secret in any log line',
  'every server that should hold a certificate holds the newest',
] as const;

async function guarded(name: string, check: () => Promise<InvariantLine>): Promise<InvariantLine> {
  try {
    return await check();
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { name, holds: false, count: 0, detail: `could not check: ${message.slice(0, 200)}` };
  }
}

/** Every invariant, in the order: one line each. */
export async function checkInvariants(
  bed: InvariantBed,
  record: SoakRecord,
  options: CheckOptions = {},
): Promise<InvariantLine[]> {
  const { clients, provisioned } = bed;
  const tables = provisioned.names;
  const prefix = bed.secretPrefix ?? 'acm-passphrase/';
  let deployments: Deployment[] | undefined;
  const records = async () => {
    deployments ??= await readDeployments(clients.dynamodb, tables.deploymentsTable);
    return deployments;
  };
  let ledger: CommandLedger | undefined;
  const commands = async () => {
    ledger ??= mergeLedgers(record.commandSnapshots ?? [], await collectCommands(clients.ssm));
    return ledger;
  };
  const [n1, n2, n3, n4, n5, n6, n7, n8] = names;
  return [
    await guarded(n1, async () =>
      jobOutcomes(
        await records(),
        await readServerItems(clients.dynamodb, tables.serversTable),
        await commands(),
        record.accepted,
      ),
    ),
    await guarded(n2, async () => commandsPerJob(await commands())),
    await guarded(n3, async () =>
      queueEmpty(await readQueueDepth(clients.sqs, provisioned.queueUrl)),
    ),
    await guarded(n4, async () => {
      const table = await readMappingTable(clients.dynamodb, tables.mappingTable);
      return noLockHeld(table.items, table.locks);
    }),
    await guarded(n5, async () =>
      versionPerExport(
        await readSecretVersions(clients.secrets, prefix),
        await records(),
        prefix,
        record.exportCalls,
      ),
    ),
    await guarded(n6, async () => {
      const byJobId = new Map((await records()).map((d) => [d.job.jobId, d]));
      return deadLettersSayWhy(
        await peekDeadLetters(clients.sqs, provisioned.deadLetterQueueUrl),
        byJobId,
      );
    }),
    await guarded(n7, async () => {
      await collectSecrets(bed, record.secrets);
      const uncollected = (await readSecretVersions(clients.secrets, prefix)).flatMap((s) =>
        s.versionIds
          .filter((v) => !record.secrets.versionsRead.has(`${s.name} ${v}`))
          .map(() => s.name),
      );
      const line = await noSecretInLogs(record.logFiles, record.secrets.values);
      if (uncollected.length === 0) return line;
      return invariantLine(line.name, line.count, [
        `${uncollected.length} secret versions never collected (${[...new Set(uncollected)].slice(0, 2).join(', ')})`,
        ...(line.holds ? [] : [line.detail]),
      ]);
    }),
    await guarded(n8, async () => {
      const table = await readMappingTable(clients.dynamodb, tables.mappingTable);
      const mappings = await withAcmSerials(clients.acm, table.mappings);
      const instances = await readInstances(clients.ec2);
      const held = await readHeld(
        bed.standInStateDir,
        mappings,
        instances,
        options.readHeldSerial ?? readHeldSerial,
      );
      return serversHoldNewest(mappings, instances, held);
    }),
  ];
}
