import type { Deployment, ServerResult } from '../domain/deployment.ts';
import type { InstalledServer } from '../domain/installed-server.ts';
import type { Mapping } from '../domain/mapping.ts';
import { type Convergence, isConverged } from '../domain/server-convergence.ts';
import type { Page } from '../ports/mapping-store.ts';
import type { CertificateItem, DeploymentView, InstalledServerView } from './schemas.ts';

const dayMs = 86_400_000;

/** Whole days from `now` until `notAfter` (negative once expired); null when unknown. */
export function daysToExpiry(notAfter: string | undefined, now: Date): number | null {
  if (notAfter === undefined) return null;
  const at = Date.parse(notAfter);
  if (Number.isNaN(at)) return null;
  return Math.floor((at - now.getTime()) / dayMs);
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * What callers see of a deployment record (no secret ids, no internal bookkeeping), with a page
 * of its per-server results when the caller read them.
 */
export function deploymentView(d: Deployment, servers?: Page<ServerResult>): DeploymentView {
  return defined({
    jobId: d.job.jobId,
    status: d.status,
    reason: d.reason,
    certificateArn: d.job.certificateArn,
    certName: d.job.certName,
    target: { key: d.job.target.key, value: d.job.target.value },
    install: { ...d.job.install },
    requester: d.job.requester,
    trigger: d.job.trigger,
    mode: d.job.mode,
    eventId: d.job.eventId,
    instanceIds: d.job.instanceIds === undefined ? undefined : [...d.job.instanceIds],
    conditions: [...d.conditions],
    certificate: d.certificate,
    commandId: d.commandId,
    rollout: d.job.canary === undefined ? undefined : { canary: d.job.canary },
    canaryServers: d.canaryServers === undefined ? undefined : [...d.canaryServers],
    canaryCommandId: d.canaryCommandId,
    cancelRequest: d.cancelRequest,
    servers: servers?.items.map(serverResultView),
    serversNextCursor: servers?.cursor,
    counts: d.counts,
    attempts: d.attempts,
    failures: d.failures,
    lastError: d.lastError,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    finishedAt: d.finishedAt,
  }) as DeploymentView;
}

type ServerResultView = NonNullable<DeploymentView['servers']>[number];

/** One server's result in a job, as callers see it. */
export function serverResultView(s: ServerResult): ServerResultView {
  return structuredClone(s) as ServerResultView;
}

/**
 * One managed certificate on one target, with days to expiry computed at `now` and, when read,
 * how many of the servers its jobs reached hold its serial.
 */
export function certificateItem(m: Mapping, now: Date, servers?: Convergence): CertificateItem {
  return defined({
    certificateArn: m.certificateArn,
    certName: m.certName,
    target: { key: m.target.key, value: m.target.value },
    install: { ...m.install },
    serial: m.serial,
    notBefore: m.notBefore,
    notAfter: m.notAfter,
    daysToExpiry: daysToExpiry(m.notAfter, now),
    lastExportedAt: m.lastExportedAt,
    lastJobId: m.lastJobId,
    lastOutcome: m.lastOutcome,
    lastOutcomeAt: m.lastOutcomeAt,
    rolloutHalted: m.rolloutHalted === '' ? undefined : m.rolloutHalted,
    servers: servers === undefined ? undefined : { ...servers },
  }) as CertificateItem;
}

/** One server of a mapping as callers see it: what it holds, and whether that is converged. */
export function installedServerView(
  s: InstalledServer,
  serial: string | undefined,
): InstalledServerView {
  return defined({
    instanceId: s.instanceId,
    serial: s.serial,
    notAfter: s.notAfter,
    lastStatus: s.lastStatus,
    lastOutcome: s.lastOutcome,
    problems: s.problems === undefined ? undefined : [...s.problems],
    lastJobId: s.lastJobId,
    updatedAt: s.updatedAt,
    verifiedAt: s.verifiedAt,
    converged: serial !== undefined && isConverged(s, serial),
  }) as InstalledServerView;
}
