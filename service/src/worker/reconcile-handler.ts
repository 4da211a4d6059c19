import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { isAgentTooOld } from '../domain/agent-version.ts';
import { isTerminal } from '../domain/deployment.ts';
import { TerminalError } from '../domain/errors.ts';
import type { InstalledServer } from '../domain/installed-server.ts';
import type { Mapping } from '../domain/mapping.ts';
import { isConverged } from '../domain/server-convergence.ts';
import { formatTarget } from '../domain/target.ts';
import type { DeployMessage } from '../messages/deploy-message.ts';
import {
  type ReconcileMappingMessage,
  type ReconcileMessage,
  reconcileMappingType,
  reconcileType,
} from '../messages/reconcile.ts';
import type { MappingKey } from '../ports/mapping-store.ts';
import { sameSerial } from './certificate-info.ts';
import {
  ack,
  deadLetter,
  type HandlerOutcome,
  later,
  type MessageContext,
} from './handler-outcome.ts';
import { followUpJobs } from './targeted-jobs.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** Mappings read per page of a sweep (one Scan request each); one message per page goes on. */
export const sweepPageSize = 100;

function sweepIdOf(message: ReconcileMessage, ctx: MessageContext): string {
  if (message.sweepId !== undefined) return message.sweepId;
  // A scheduled run is named by its time (Scheduler may deliver it twice: the same sweep).
  const basis =
    message.scheduledTime === undefined
      ? `message ${ctx.messageId}`
      : `scheduled ${message.scheduledTime} ${message.verify === true ? 'verify' : ''}`;
  return `s-${createHash('sha256').update(basis).digest('hex').slice(0, 24)}`;
}

/** A failed step of a sweep: retried with backoff, then dead-lettered with the reason. */
function retryOrGiveUp(
  what: string,
  error: unknown,
  ctx: MessageContext,
  deps: WorkerDeps,
  log: Logger,
): HandlerOutcome {
  const reason = error instanceof Error ? error.message : 'unknown error';
  if (ctx.receiveCount >= deps.settings.maxFailures) {
    return deadLetter(`${what} failed ${ctx.receiveCount} times: ${reason}`);
  }
  log.warn({ err: error }, `${what} failed; will retry`);
  return later(2 ** ctx.receiveCount, `${what} failed`);
}

/**
 * One page of a reconciliation sweep: a `reconcile-mapping` message for each mapping of the
 * page, then the rest of the walk as a message of its own. A crash repeats at most this page
 * (its mappings' reconciliations are idempotent); the sweep scales with the workers because
 * each mapping is a message any worker can take.
 */
export async function handleReconcile(
  message: ReconcileMessage,
  ctx: MessageContext,
  deps: WorkerDeps,
): Promise<HandlerOutcome> {
  const sweepId = sweepIdOf(message, ctx);
  const log = deps.logger.child({ sweepId, ...(message.verify === true ? { verify: true } : {}) });
  try {
    const page = await deps.mappings.list(sweepPageSize, message.cursor);
    for (const m of page.items) {
      await deps.queue.send({
        type: reconcileMappingType,
        version: 1,
        sweepId,
        certificateArn: m.certificateArn,
        certName: m.certName,
        target: m.target,
        ...(message.verify === true ? { verify: true } : {}),
        ...(message.requester === undefined ? {} : { requester: message.requester }),
      });
    }
    if (page.cursor !== undefined) {
      await deps.queue.send({
        type: reconcileType,
        version: 1,
        sweepId,
        cursor: page.cursor,
        ...(message.verify === true ? { verify: true } : {}),
        ...(message.requester === undefined ? {} : { requester: message.requester }),
      });
    }
    log.info(
      { mappings: page.items.length, more: page.cursor !== undefined },
      `reconciliation sweep: ${page.items.length} mappings queued${page.cursor === undefined ? '' : ', the next page queued'}`,
    );
    return ack;
  } catch (error) {
    return retryOrGiveUp('reconciliation sweep page', error, ctx, deps, log);
  }
}

/** What one mapping's reconciliation found and did. */
export interface Reconciliation {
  readonly action:
    | 'missing'
    | 'busy'
    | 'held'
    | 'released-lock'
    | 'certificate-unusable'
    | 'never-deployed'
    | 'renewal'
    | 'servers'
    | 'verify'
    | 'converged';
  readonly jobs: readonly DeployMessage[];
  /** Online servers with the tag, and those among them that need the current certificate. */
  readonly online?: number;
  readonly behind?: readonly string[];
  /** Online servers whose agent cannot run the document: reported, never sent to. */
  readonly agentTooOld?: readonly string[];
  readonly detail: string;
}

/** Why a server needs an install: it has none, an older serial, a failed last try, or drift. */
function needsInstall(s: InstalledServer | undefined, serial: string): boolean {
  return !isConverged(s, serial);
}

/**
 * One mapping's reconciliation, read-only but for the jobs it returns:
 * - a lock whose job is gone (no record, or a finished one) is released;
 * - ACM's serial vs the serial last exported: a renewal that never reached us is deployed to
 *   every server with the tag;
 * - the servers online with the tag (Run Command's managed-node inventory: EC2 and `mi-`) vs
 *   what each holds: the ones without the current serial, or whose last install failed, get a
 *   targeted install in batches of 50;
 * - with `verify`, the rest get the install document's Verify mode (its drift is repaired).
 */
export async function reconcileMapping(
  key: MappingKey,
  sweep: { readonly sweepId: string; readonly verify: boolean; readonly requester?: string },
  deps: WorkerDeps,
  log: Logger,
): Promise<Reconciliation> {
  const { sweepId, verify } = sweep;
  let mapping: Mapping | undefined = await deps.mappings.get(key);
  if (mapping === undefined) {
    return { action: 'missing', jobs: [], detail: 'no longer managed' };
  }
  const now = deps.clock.now();
  let released = false;
  if (mapping.lock !== undefined && mapping.lock.until >= now.toISOString()) {
    const holder = await deps.deployments.get(mapping.lock.jobId);
    if (holder !== undefined && !isTerminal(holder.status)) {
      return {
        action: 'busy',
        jobs: [],
        detail: `job ${mapping.lock.jobId} is running (${holder.status}); the next sweep looks again`,
      };
    }
    // Only the holder releases: a lock taken over meanwhile stays.
    released = await deps.mappings.releaseLock(key, mapping.lock.jobId);
    log.warn(
      { holder: mapping.lock.jobId, holderStatus: holder?.status ?? 'no record', released },
      'released the lock of a job that is gone',
    );
    mapping = (await deps.mappings.get(key)) ?? mapping;
  }
  // Who asked, when someone did (POST /v1/reconcile): the jobs' records name them.
  if (mapping.rolloutHalted !== undefined && mapping.rolloutHalted !== '') {
    return {
      action: 'held',
      jobs: [],
      detail: `held back: ${mapping.rolloutHalted}; the sweep installs nothing on this mapping until a deployment is asked for again (acm-cert-export deploy)`,
    };
  }
  const requester = `reconcile ${sweepId}${sweep.requester === undefined ? '' : ` for ${sweep.requester}`}`;
  const base = { key, install: mapping.install, requester, origin: sweepId };
  let described: Awaited<ReturnType<WorkerDeps['certificates']['describe']>>;
  try {
    described = await deps.certificates.describe(key.certificateArn);
  } catch (error) {
    if (!(error instanceof TerminalError)) throw error;
    return { action: 'certificate-unusable', jobs: [], detail: error.message };
  }
  if (described.status !== 'ISSUED' || !described.exportable || described.serial === undefined) {
    return {
      action: 'certificate-unusable',
      jobs: [],
      detail: `the certificate is ${described.status}${described.exportable ? '' : ' and not exportable'}: nothing to deploy`,
    };
  }
  const current = described.serial;
  const [nodes, installed] = await Promise.all([
    deps.commands.managedNodesTagged(key.target),
    deps.servers.installed(key),
  ]);
  const held = new Map(installed.map((s) => [s.instanceId, s]));
  const online = nodes.filter((n) => n.pingStatus === 'Online');
  const agentTooOld = online.filter((n) => isAgentTooOld(n.agentVersion)).map((n) => n.instanceId);
  const usable = online.filter((n) => !isAgentTooOld(n.agentVersion)).map((n) => n.instanceId);
  if (usable.length === 0) {
    // Nothing would receive an export: no export, no secret version, no job until one is online.
    return {
      action: released ? 'released-lock' : 'converged',
      online: online.length,
      behind: [],
      agentTooOld,
      jobs: [],
      detail: `no online server with a supported agent carries ${formatTarget(key.target)}`,
    };
  }
  if (mapping.serial === undefined || !sameSerial(mapping.serial, current)) {
    return {
      action: mapping.serial === undefined ? 'never-deployed' : 'renewal',
      online: online.length,
      behind: usable,
      agentTooOld,
      jobs: followUpJobs({ ...base, kind: 'sweep' }),
      detail:
        mapping.serial === undefined
          ? `no deployment of this mapping ever succeeded: deploying serial ${current} to every server with the tag`
          : `ACM's serial ${current} was never deployed (last exported ${mapping.serial}): deploying it to every server with the tag`,
    };
  }
  const behind = usable.filter((id) => needsInstall(held.get(id), current));
  const facts = { online: online.length, behind, agentTooOld };
  if (behind.length > 0) {
    return {
      action: 'servers',
      ...facts,
      jobs: followUpJobs({ ...base, kind: 'sweep', instanceIds: behind }),
      detail: `${behind.length} of ${online.length} online servers do not hold serial ${current}: installing on them`,
    };
  }
  if (verify && usable.length > 0 && mapping.secretVersionId !== undefined) {
    return {
      action: 'verify',
      ...facts,
      jobs: followUpJobs({ ...base, kind: 'verify', instanceIds: usable, mode: 'verify' }),
      detail: `all ${usable.length} online servers hold serial ${current}: verifying their files`,
    };
  }
  return {
    action: released ? 'released-lock' : 'converged',
    ...facts,
    jobs: [],
    detail: `all ${usable.length} online servers hold serial ${current}`,
  };
}

/** One mapping of a sweep: reconciles it and queues the jobs that brings. */
export async function handleReconcileMapping(
  message: ReconcileMappingMessage,
  ctx: MessageContext,
  deps: WorkerDeps,
): Promise<HandlerOutcome> {
  const key = {
    target: message.target,
    certificateArn: message.certificateArn,
    certName: message.certName,
  };
  const log = deps.logger.child({
    sweepId: message.sweepId,
    ...(message.requester === undefined ? {} : { requester: message.requester }),
    certificateArn: key.certificateArn,
    certName: key.certName,
    target: formatTarget(key.target),
  });
  try {
    const r = await reconcileMapping(
      key,
      {
        sweepId: message.sweepId,
        verify: message.verify === true,
        ...(message.requester === undefined ? {} : { requester: message.requester }),
      },
      deps,
      log,
    );
    for (const job of r.jobs) await deps.queue.send(job);
    const level = r.action === 'converged' || r.action === 'missing' ? 'info' : 'warn';
    log[level](
      {
        action: r.action,
        jobs: r.jobs.map((j) => j.jobId),
        ...(r.online === undefined ? {} : { online: r.online }),
        ...(r.behind === undefined ? {} : { behind: r.behind.length }),
        ...(r.agentTooOld === undefined || r.agentTooOld.length === 0
          ? {}
          : { agentTooOld: r.agentTooOld.slice(0, 50) }),
      },
      `reconcile: ${r.detail}`,
    );
    return ack;
  } catch (error) {
    return retryOrGiveUp('reconciling a mapping', error, ctx, deps, log);
  }
}
