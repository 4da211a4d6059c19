import type { Logger } from 'pino';
import type { Deployment, DeploymentStatus, ServerResult } from '../domain/deployment.ts';
import { moveTo, recordRetentionDays, withCondition } from '../domain/deployment-record.ts';
import { afterJob } from '../domain/installed-server.ts';
import { mappingKeyOf } from './mapping-key.ts';
import { deploymentMetricName, emfFields } from './metrics.ts';
import type { JobVerdict } from './outcome-policy.ts';
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
};

/**
 * Records each server's result as an item of its own (the job's, and what the server now holds
 * for the mapping): idempotent, so a finish retried after a crash writes the same items again.
 */
async function recordServers(
  d: Deployment,
  servers: readonly ServerResult[],
  deps: WorkerDeps,
  now: Date,
): Promise<void> {
  if (servers.length === 0) return;
  const key = mappingKeyOf(d.job);
  await deps.servers.recordJobResults(
    d.job.jobId,
    servers,
    new Date(now.getTime() + recordRetentionDays * 86_400_000),
  );
  const before = new Map((await deps.servers.installed(key)).map((s) => [s.instanceId, s]));
  await deps.servers.recordInstalled(key, afterJob(before, servers, d.job.jobId, now));
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
): Promise<Deployment> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const key = mappingKeyOf(d.job);
  const ok = succeeded.has(outcome.status);
  await recordServers(d, servers, deps, now);
  const mapping = await deps.mappings.get(key);
  // Never installed: no serial of ours, and no export the original sample recorded either.
  const never =
    mapping === undefined || (mapping.serial === undefined && mapping.lastExportedAt === undefined);
  let abandoned = false;
  if (!ok && never && outcome.code !== undefined && certificateProblems.has(outcome.code)) {
    abandoned = await deps.mappings.abandon(key, d.job.jobId);
    if (abandoned && d.secretArn !== undefined) {
      await deps.secrets.scheduleDeletion(d.secretArn, deps.settings.secretRecoveryDays);
    }
  }
  if (!abandoned) {
    const cert = ok ? d.certificate : undefined;
    await deps.mappings.releaseLock(key, d.job.jobId, {
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
      ...emfFields(now, { [deploymentMetricName(outcome.status)]: { value: 1, unit: 'Count' } }),
    },
    `deployment ${outcome.status}: ${outcome.reason}`,
  );
  return finished;
}

function exportedAt(d: Deployment): string | undefined {
  return d.conditions.find((c) => c.type === 'Exported' && c.status === 'True')?.lastTransitionTime;
}
