import type { Logger } from 'pino';
import type { Deployment, DeploymentStatus, ServerResult } from '../domain/deployment.ts';
import { moveTo, recordRetentionDays, withCondition } from '../domain/deployment-record.ts';
import { exportSecretName } from '../domain/export-secret-name.ts';
import { afterJob } from '../domain/installed-server.ts';
import type { Mapping } from '../domain/mapping.ts';
import { isDeploymentOutcome } from '../metrics/definitions.ts';
import { mappingKeyOf, mappingRef } from './mapping-key.ts';
import { deploymentEmf } from './metrics.ts';
import type { JobVerdict } from './outcome-policy.ts';
import { drifted } from './outcome-policy.ts';
import { followUpJobs } from './targeted-jobs.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** Terminal errors meaning the certificate itself cannot be deployed (not a server problem). */
const certificateProblems = new Set([
  'CertificateNotFound',
  'InvalidCertificateArn',
  'CertificateNotExportable',
  'CertificateNotIssued',
  'CertificateNotAllowed',
]);

const succeeded: ReadonlySet<DeploymentStatus> = new Set(['Succeeded', 'PartiallyFailed']);

/** How loud an outcome is: an operator acts on warn and error lines. */
const levels: Record<DeploymentStatus, 'info' | 'warn' | 'error'> = {
  Queued: 'info',
  Exporting: 'info',
  Dispatching: 'info',
  Running: 'info',
  Succeeded: 'info',
  PartiallyFailed: 'warn',
  NoTargets: 'warn',
  TimedOut: 'warn',
  Failed: 'error',
  Cancelled: 'warn',
};

/**
 * Records each server's result as an item of its own (the job's, and what the server now holds
 * for the mapping) in one batch: idempotent, so a finish retried after a crash writes the same
 * items again. What the servers held before is read only when the new state depends on it: a
 * server that failed (or reported no serial) keeps the serial it held, and a verify keeps it too.
 */
async function recordServers(
  d: Deployment,
  servers: readonly ServerResult[],
  deps: WorkerDeps,
  now: Date,
): Promise<void> {
  if (servers.length === 0) return;
  const key = mappingKeyOf(d.job);
  const mode = d.job.mode === 'verify' ? 'verify' : 'install';
  const fresh =
    mode === 'install' && servers.every((s) => s.status === 'Success' && s.summary?.serial != null);
  const before = fresh
    ? new Map()
    : new Map((await deps.servers.installed(key)).map((s) => [s.instanceId, s]));
  await deps.servers.recordJobEnd(
    d.job.jobId,
    servers,
    new Date(now.getTime() + recordRetentionDays * 86_400_000),
    key,
    afterJob(before, servers, d.job.jobId, now, mode),
  );
}

/**
 * A verify job's follow-up: an install on each server whose files drifted (the install rewrites
 * files that are not exactly as wanted), in batches, with job ids derived from the verify job so
 * that a finish retried after a crash queues the same jobs again (the deploy handler runs each
 * once).
 */
async function queueRepairs(
  d: Deployment,
  servers: readonly ServerResult[],
  deps: WorkerDeps,
  log: Logger,
): Promise<void> {
  const drift = drifted(servers).map((s) => s.instanceId);
  if (drift.length === 0) return;
  const jobs = followUpJobs({
    kind: 'repair',
    origin: d.job.jobId,
    key: mappingKeyOf(d.job),
    install: d.job.install,
    requester: `verify ${d.job.jobId}`,
    instanceIds: drift,
  });
  for (const job of jobs) await deps.queue.send(job);
  log.warn(
    { drifted: drift.slice(0, 50), repairJobs: jobs.map((j) => j.jobId) },
    `files drifted on ${drift.length} servers: repair queued`,
  );
}

/**
 * Ends a job: records the servers' results, then the outcome on the mapping and releases its
 * lock in one conditional write (only the lock holder writes), then the terminal status on the
 * deployment, and logs one outcome line (`log` carries the job id, certificate and target). Safe
 * to run twice: a second run finds the lock released and only rewrites the record.
 */
export async function finishStep(
  d: Deployment,
  outcome: JobVerdict & { code?: string },
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
  log: Logger,
  servers: readonly ServerResult[] = [],
  lockedMapping?: Mapping,
): Promise<Deployment> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const key = mappingKeyOf(d.job);
  const ok = succeeded.has(outcome.status);
  await recordServers(d, servers, deps, now);
  if (d.job.mode === 'verify') {
    await queueRepairs(d, servers, deps, log);
    // A check installs nothing: the mapping keeps its serial and last deployment's outcome.
    await deps.mappings.releaseLock(key, d.job.jobId, { updatedAt: at });
    return measuredEnd(d, outcome, deps, now, () =>
      finishRecord(d, outcome, servers, ok, now, save, log, deps.settings.metricsNamespace),
    );
  }
  let abandoned = false;
  if (!ok && outcome.code !== undefined && certificateProblems.has(outcome.code)) {
    // The mapping as this pickup's lock returned it, or read (the abandon is conditional anyway).
    const mapping = lockedMapping ?? (await deps.mappings.get(key));
    // Never installed: no serial of ours, and no export the original sample recorded either.
    const never =
      mapping === undefined ||
      (mapping.serial === undefined && mapping.lastExportedAt === undefined);
    if (never) abandoned = await deps.mappings.abandon(key, d.job.jobId);
    if (abandoned) {
      // An earlier failed job may have created the secret: it goes by its derived name.
      await deps.secrets.scheduleDeletion(
        d.secretArn ?? mapping?.secretArn ?? exportSecretName(deps.settings.secretPrefix, key),
        deps.settings.secretRecoveryDays,
      );
    }
  }
  if (!abandoned) {
    const cert = ok ? d.certificate : undefined;
    await deps.mappings.releaseLock(key, d.job.jobId, {
      ...rolloutHold(d, outcome, at),
      ...serverCount(d, servers),
      lastJobId: d.job.jobId,
      lastOutcome: outcome.status,
      lastOutcomeAt: at,
      updatedAt: at,
      // Whatever the outcome: stop-managing must find the secret this job wrote to.
      ...(d.secretArn === undefined ? {} : { secretArn: d.secretArn }),
      ...(cert === undefined
        ? {}
        : {
            serial: cert.serial,
            notBefore: cert.notBefore,
            notAfter: cert.notAfter,
            lastExportedAt: exportedAt(d) ?? at,
            ...(d.secretVersionId === undefined ? {} : { secretVersionId: d.secretVersionId }),
          }),
    });
  }
  if (abandoned) {
    deps.metrics.mappingForgotten(mappingRef(key));
  } else {
    const whole = serverCount(d, servers).serverCount !== undefined;
    const notAfter = ok ? d.certificate?.notAfter : undefined;
    deps.metrics.mappingObserved(mappingRef(key), {
      ...(notAfter === undefined ? {} : { notAfter }),
      // A command to the whole tag that installed the new serial reached every server: how many
      // of them hold it now. Otherwise the mapping keeps its serial and its last counts.
      ...(whole && ok
        ? {
            servers: servers.length,
            serversConverged: servers.filter((s) => s.status === 'Success').length,
          }
        : {}),
    });
  }
  return measuredEnd(d, outcome, deps, now, () =>
    finishRecord(d, outcome, servers, ok, now, save, log, deps.settings.metricsNamespace),
  );
}

/** The terminal record written, then the deployment counted by outcome with its duration. */
async function measuredEnd(
  d: Deployment,
  outcome: JobVerdict,
  deps: WorkerDeps,
  now: Date,
  finish: () => Promise<Deployment>,
): Promise<Deployment> {
  const finished = await finish();
  const requestedAt = Date.parse(d.createdAt);
  if (isDeploymentOutcome(outcome.status)) {
    deps.metrics.deploymentFinished(
      outcome.status,
      Number.isNaN(requestedAt) ? -1 : (now.getTime() - requestedAt) / 1000,
    );
  }
  return finished;
}

/**
 * How many servers a command to the whole tag reached: the next deployment's rate control uses
 * it (dispatch-step) instead of counting the tag's managed nodes. Commands to named servers and
 * a canary's first command reach a part of the tag: nothing then.
 */
function serverCount(d: Deployment, servers: readonly ServerResult[]): { serverCount?: number } {
  if (d.job.instanceIds !== undefined || d.phase === 'canary' || servers.length === 0) return {};
  return { serverCount: servers.length };
}

/** Triggers whose deployment someone (or ACM's renewal) asked for: they decide a rollout. */
const askedFor: ReadonlySet<string> = new Set(['api', 'queue', 'renewal']);

/**
 * A cancelled job, or a failed canary, holds the mapping back from the reconciliation sweep (it
 * would roll out on its own what a person or the canary stopped); the end of the next deployment
 * asked for lifts the hold. Jobs of the sweep itself and of servers that start leave it as it is.
 */
function rolloutHold(d: Deployment, outcome: JobVerdict, at: string): { rolloutHalted?: string } {
  if (outcome.status === 'Cancelled' || outcome.code === 'CanaryFailed') {
    const why = outcome.status === 'Cancelled' ? 'was cancelled' : 'stopped at a failed canary';
    return { rolloutHalted: `deployment ${d.job.jobId} ${why} at ${at}` };
  }
  return askedFor.has(d.job.trigger) ? { rolloutHalted: '' } : {};
}

/** The terminal record and the one outcome line (an EMF metric). */
async function finishRecord(
  d: Deployment,
  outcome: JobVerdict & { code?: string },
  servers: readonly ServerResult[],
  ok: boolean,
  now: Date,
  save: (next: Deployment) => Promise<Deployment>,
  log: Logger,
  namespace?: string,
): Promise<Deployment> {
  const at = now.toISOString();
  const finished = await save(
    moveTo(
      d,
      outcome.status,
      {
        reason: outcome.reason,
        finishedAt: at,
        ...(servers.length === 0
          ? {}
          : {
              counts: {
                ...(d.counts ?? { target: servers.length, completed: servers.length, errors: 0 }),
                succeeded: servers.filter((s) => s.status === 'Success').length,
                failed: servers.filter((s) => s.status !== 'Success').length,
              },
            }),
        activeAttempt: undefined,
        conditions: withCondition(
          d.conditions,
          'Completed',
          ok ? 'True' : 'False',
          outcome.status,
          outcome.reason,
          now,
        ),
      },
      now,
    ),
  );
  // CloudWatch Embedded Metric Format: the log line is the metric (alarms in infra/).
  log[levels[outcome.status]](
    {
      status: outcome.status,
      reason: outcome.reason,
      ...(outcome.code === undefined ? {} : { code: outcome.code }),
      ...deploymentEmf(now, outcome.status, namespace),
    },
    `deployment ${outcome.status}: ${outcome.reason}`,
  );
  return finished;
}

function exportedAt(d: Deployment): string | undefined {
  return d.conditions.find((c) => c.type === 'Exported' && c.status === 'True')?.lastTransitionTime;
}
