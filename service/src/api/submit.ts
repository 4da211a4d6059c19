import { createHash, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { DeployJob } from '../domain/deploy-job.ts';
import type { Deployment } from '../domain/deployment.ts';
import { newDeployment } from '../domain/deployment-record.ts';
import {
  canonicalFormats,
  type InstallOptions,
  type OutputFormat,
} from '../domain/install-options.ts';
import type { DeployMessage } from '../messages/deploy-message.ts';
import type { ApiPorts } from './dependencies.ts';
import { ApiError, fromPort } from './errors.ts';
import type { JobAccepted } from './schemas.ts';

/** A validated, authorised deployment request (from either body shape). */
export interface DeploymentRequest {
  readonly certificateArn: string;
  readonly certName: string;
  readonly target: { readonly key: string; readonly value: string };
  readonly install?: InstallOptions;
  /** A canary first (`POST /v1/deployments` only). */
  readonly rollout?: { readonly canary?: number };
}

export interface Submission {
  /** 202: (re)queued now. 200: an earlier request with this Idempotency-Key already did. */
  readonly statusCode: 200 | 202;
  readonly jobId: string;
  readonly status: JobAccepted['status'];
  readonly replayed: boolean;
}

/**
 * Job id for an Idempotency-Key: the same principal and key always give the same job, and two
 * principals can never collide (nor guess each other's job ids from their keys).
 */
export function idempotentJobId(principal: string, key: string): string {
  const digest = createHash('sha256').update(`${principal}\u0000${key}`).digest('hex');
  return `idem-${digest}`;
}

function normalisedInstall(install: InstallOptions | undefined): InstallOptions {
  const entries = Object.entries(install ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, k === 'formats' ? canonicalFormats(v as OutputFormat[]) : v]);
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

function sameRequest(job: DeployJob, request: DeploymentRequest): boolean {
  return (
    job.certificateArn === request.certificateArn &&
    job.certName === request.certName &&
    job.target.key === request.target.key &&
    job.target.value === request.target.value &&
    JSON.stringify(normalisedInstall(job.install)) ===
      JSON.stringify(normalisedInstall(request.install)) &&
    job.canary === request.rollout?.canary
  );
}

function messageFor(job: DeployJob): DeployMessage {
  const install = normalisedInstall(job.install);
  return {
    type: 'deploy',
    version: 1,
    jobId: job.jobId,
    certificateArn: job.certificateArn,
    certName: job.certName,
    target: { key: job.target.key, value: job.target.value },
    ...(Object.keys(install).length > 0 ? { install } : {}),
    ...(job.requester === undefined ? {} : { requester: job.requester }),
    trigger: 'api',
    ...(job.canary === undefined ? {} : { rollout: { canary: job.canary } }),
  };
}

export interface SubmitContext {
  readonly ports: ApiPorts;
  readonly now: Date;
  readonly log: FastifyBaseLogger;
}

/**
 * Records the job as `Queued`, then puts its message on the queue; succeeds only when both are
 * done. The order matters: the worker treats a message whose record exists as a resume, so the
 * record must exist before the message can be received.
 *
 * Retries with the same Idempotency-Key find the record: a different request is a conflict
 * (409); a record still `Queued` has its message sent again (its first send may have failed:
 * a duplicate message is harmless, the worker resumes the same record); a record past `Queued`
 * is already being worked on and is returned as it is (200).
 *
 * When the send fails (503): with an Idempotency-Key the record stays `Queued` so that a retry
 * re-sends; without one the record is marked `Failed` (nothing will retry it), and a message
 * that did reach the queue after all finds a terminal record and does nothing.
 */
export async function submitDeployment(
  ctx: SubmitContext,
  request: DeploymentRequest,
  requester: string,
  idempotencyKey: string | undefined,
): Promise<Submission> {
  const jobId =
    idempotencyKey === undefined ? randomUUID() : idempotentJobId(requester, idempotencyKey);
  const job: DeployJob = {
    jobId,
    certificateArn: request.certificateArn,
    certName: request.certName,
    target: { key: request.target.key, value: request.target.value },
    install: normalisedInstall(request.install),
    requester,
    trigger: 'api',
    ...(request.rollout?.canary === undefined ? {} : { canary: request.rollout.canary }),
  };
  const { created, deployment } = await fromPort(
    'the deployments table',
    ctx.ports.deployments.create(newDeployment(job, ctx.now)),
  );

  if (!created) {
    if (idempotencyKey === undefined) {
      throw new Error(`random job id ${jobId} collided with an existing deployment`);
    }
    if (!sameRequest(deployment.job, request)) {
      throw new ApiError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key "${idempotencyKey}" was used for a different request (job ${jobId}); use a new key for a new request`,
      );
    }
    if (deployment.status !== 'Queued') {
      return { statusCode: 200, jobId, status: deployment.status, replayed: true };
    }
  }

  try {
    await ctx.ports.jobs.send(messageFor(deployment.job));
  } catch (error) {
    if (idempotencyKey === undefined) await markNotQueued(ctx, deployment);
    throw new ApiError(
      'QUEUE_UNAVAILABLE',
      idempotencyKey === undefined
        ? 'the job could not be queued; nothing was done: submit it again'
        : 'the job could not be queued; retry with the same Idempotency-Key',
      { cause: error },
    );
  }
  ctx.log.info(
    { jobId, principal: requester, target: job.target, certificateArn: job.certificateArn },
    created ? 'deployment queued' : 'deployment re-queued (idempotent retry)',
  );
  return { statusCode: 202, jobId, status: 'Queued', replayed: !created };
}

async function markNotQueued(ctx: SubmitContext, deployment: Deployment): Promise<void> {
  const at = ctx.now.toISOString();
  try {
    await ctx.ports.deployments.save({
      ...deployment,
      status: 'Failed',
      reason: 'The job could not be put on the queue, so nothing was done. Submit it again.',
      updatedAt: at,
      finishedAt: at,
      version: deployment.version + 1,
    });
  } catch (error) {
    // The record stays Queued; the caller was told the job was not accepted.
    ctx.log.error({ err: error, jobId: deployment.job.jobId }, 'could not mark unqueued job');
  }
}
