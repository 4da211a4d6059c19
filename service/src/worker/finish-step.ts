import type { Deployment, DeploymentStatus } from '../domain/deployment.ts';
import { moveTo, withCondition } from '../domain/deployment-record.ts';
import { effectiveInstall } from './document-parameters.ts';
import { mappingKeyOf } from './mapping-key.ts';
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

/**
 * Ends a job: records the outcome on the mapping and releases its lock in one conditional write
 * (only the lock holder writes), then records the terminal status on the deployment. Safe to
 * run twice: a second run finds the lock released and only rewrites the record.
 */
export async function finishStep(
  d: Deployment,
  outcome: JobVerdict & { code?: string },
  deps: WorkerDeps,
  save: (next: Deployment) => Promise<Deployment>,
): Promise<Deployment> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const key = mappingKeyOf(d.job);
  const ok = succeeded.has(outcome.status);
  const mapping = await deps.mappings.get(key);
  const never = mapping === undefined || mapping.serial === undefined;
  let abandoned = false;
  if (!ok && never && outcome.code !== undefined && certificateProblems.has(outcome.code)) {
    abandoned = await deps.mappings.abandon(key, d.job.jobId);
    if (abandoned && d.secretArn !== undefined) {
      await deps.passphrases.scheduleDeletion(d.secretArn, deps.settings.secretRecoveryDays);
    }
  }
  if (!abandoned) {
    const cert = ok ? d.certificate : undefined;
    await deps.mappings.releaseLock(key, d.job.jobId, {
      lastJobId: d.job.jobId,
      lastOutcome: outcome.status,
      lastOutcomeAt: at,
      updatedAt: at,
      ...(ok ? { install: effectiveInstall(d.job, mapping?.install) } : {}),
      ...(cert === undefined
        ? {}
        : {
            serial: cert.serial,
            notBefore: cert.notBefore,
            notAfter: cert.notAfter,
            lastExportedAt: exportedAt(d) ?? at,
            ...(d.secretArn === undefined ? {} : { secretArn: d.secretArn }),
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
  const log = deps.logger;
  const metric = `Deployments${outcome.status}`;
  // CloudWatch Embedded Metric Format: the log line is the metric (alarms in infra/).
  log.info(
    {
      status: outcome.status,
      reason: outcome.reason,
      _aws: {
        Timestamp: now.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: 'AcmCertExport',
            Dimensions: [[]],
            Metrics: [{ Name: metric, Unit: 'Count' }],
          },
        ],
      },
      [metric]: 1,
    },
    `deployment ${outcome.status}: ${outcome.reason}`,
  );
  return finished;
}

function exportedAt(d: Deployment): string | undefined {
  return d.conditions.find((c) => c.type === 'Exported' && c.status === 'True')?.lastTransitionTime;
}
