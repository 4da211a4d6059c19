/**
 * Invariants 3 to 6, pure: the job queue is empty, no mapping lock is held, each passphrase
 * secret holds a version per export at most, and the dead-letter queue holds only messages that
 * say why.
 */
import type { Deployment } from '../../service/src/domain/deployment.ts';
import { isTerminal } from '../../service/src/domain/deployment.ts';
import { exportSecretName } from '../../service/src/domain/export-secret-name.ts';
import { queueJobId, secretVersionToken } from '../../service/src/worker/job-ids.ts';
import { type InvariantLine, invariantLine } from './invariants-model.ts';

/** The job queue's approximate counts (GetQueueAttributes). */
export interface QueueDepth {
  readonly visible: number;
  readonly notVisible: number;
  readonly delayed: number;
}

/** Invariant 3: nothing waiting, in flight or delayed on the job queue (after the drain). */
export function queueEmpty(depth: QueueDepth): InvariantLine {
  const problems = Object.entries(depth)
    .filter(([, n]) => n !== 0)
    .map(([what, n]) => `${n} ${what}`);
  return invariantLine('no message left on the job queue', 3, problems);
}

/** A lock on a `CertTagMapping` item (`LockJobId`, `LockUntil`), or a lock-only item. */
export interface HeldLock {
  /** `TagKeyValue` and `CertificateArn#CertName` of the item. */
  readonly item: string;
  readonly jobId: string;
  readonly until: string;
}

/** Invariant 4: no item of the mapping table carries a lock (`count`: items scanned). */
export function noLockHeld(items: number, locks: readonly HeldLock[]): InvariantLine {
  return invariantLine(
    'no mapping lock held',
    items,
    locks.map((l) => `${l.item} locked by ${l.jobId} until ${l.until}`),
  );
}

/** A passphrase secret and the ids of all its versions (ListSecretVersionIds). */
export interface SecretVersions {
  readonly name: string;
  readonly versionIds: readonly string[];
}

/**
 * Invariant 5: a secret version per export at most. A job stores its export under the
 * ClientRequestToken derived from its id (worker/job-ids.ts `secretVersionToken`), which becomes
 * the version id, in the secret derived from its mapping (`exportSecretName`): so every version
 * must be the token of one job of that secret's mapping, which makes the versions at most the
 * jobs that exported (a retried export, a resumed job, a duplicate message store nothing new).
 * With `exportCalls` (ExportCertificate requests the bed's counting proxy saw, retries
 * included), the versions of all secrets are at most that too.
 */
export function versionPerExport(
  secrets: readonly SecretVersions[],
  deployments: readonly Deployment[],
  prefix: string,
  exportCalls?: number,
): InvariantLine {
  const jobsBySecret = new Map<string, Map<string, string>>();
  for (const d of deployments) {
    const name = exportSecretName(prefix, d.job);
    const tokens = jobsBySecret.get(name) ?? new Map<string, string>();
    jobsBySecret.set(name, tokens);
    tokens.set(secretVersionToken(d.job.jobId), d.job.jobId);
  }
  const problems: string[] = [];
  let versions = 0;
  for (const s of secrets) {
    versions += s.versionIds.length;
    const tokens = jobsBySecret.get(s.name) ?? new Map<string, string>();
    const strays = s.versionIds.filter((v) => !tokens.has(v));
    if (strays.length > 0) {
      problems.push(
        `${s.name}: ${strays.length} of ${s.versionIds.length} versions are no job's export (${strays.slice(0, 2).join(', ')})`,
      );
    }
  }
  if (exportCalls !== undefined && versions > exportCalls) {
    problems.push(`${versions} secret versions for ${exportCalls} ExportCertificate calls`);
  }
  const note = exportCalls === undefined ? '' : `${versions} versions, ${exportCalls} exports`;
  return invariantLine('a secret version per export at most', versions, problems, note);
}

/** A message on the dead-letter queue, read and left there. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly reason?: string;
  readonly originalMessageId?: string;
}

/**
 * The job id a dead-lettered message stands for: its body's `jobId`, or the one a message put
 * on the queue without one gets from its queue message id (worker/job-ids.ts `queueJobId`).
 */
export function deadLetterJobId(m: DeadLetter): string | undefined {
  try {
    const body = JSON.parse(m.body) as {
      jobId?: unknown;
      type?: unknown;
      CertificateArn?: unknown;
    };
    if (typeof body.jobId === 'string') return body.jobId;
    const isDeploy = body.type === 'deploy' || typeof body.CertificateArn === 'string';
    if (isDeploy) return queueJobId(m.originalMessageId ?? m.messageId);
  } catch {
    // Not JSON: no job.
  }
  return undefined;
}

/**
 * Invariant 6: every dead-lettered message says why: the worker's `reason` attribute
 * (docs/messages.md), or — a message the queue itself redrove after maxReceiveCount carries
 * none — a deployment record that ended with a reason.
 */
export function deadLettersSayWhy(
  messages: readonly DeadLetter[],
  byJobId: ReadonlyMap<string, Deployment>,
): InvariantLine {
  const problems: string[] = [];
  for (const m of messages) {
    if ((m.reason ?? '').trim() !== '') continue;
    const jobId = deadLetterJobId(m);
    const d = jobId === undefined ? undefined : byJobId.get(jobId);
    if (d === undefined) {
      problems.push(
        `${m.messageId}: no reason and no record${jobId === undefined ? '' : ` (${jobId})`}`,
      );
    } else if (!isTerminal(d.status) || (d.reason ?? '').trim() === '') {
      problems.push(`${m.messageId}: no reason; its job ${jobId} is ${d.status} without one`);
    }
  }
  return invariantLine(
    'the dead-letter queue holds only jobs that say why',
    messages.length,
    problems,
  );
}
