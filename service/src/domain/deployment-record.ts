import type { DeployJob } from './deploy-job.ts';
import type { Condition, ConditionType, Deployment, DeploymentStatus } from './deployment.ts';

/** Days a finished deployment record (and its per-server results) is kept, then removed by TTL. */
export const recordRetentionDays = 90;

/** A new record for a job: `Queued`, version 1, no conditions yet. */
export function newDeployment(job: DeployJob, now: Date): Deployment {
  const at = now.toISOString();
  return {
    job,
    status: 'Queued',
    conditions: [],
    attempts: 0,
    failures: 0,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

/**
 * Sets a condition. `lastTransitionTime` moves only when the status changes (cert-manager's
 * rule); reason and message are always updated.
 */
export function withCondition(
  conditions: readonly Condition[],
  type: ConditionType,
  status: Condition['status'],
  reason: string,
  message: string,
  now: Date,
): Condition[] {
  const existing = conditions.find((c) => c.type === type);
  const lastTransitionTime =
    existing !== undefined && existing.status === status
      ? existing.lastTransitionTime
      : now.toISOString();
  const next: Condition = { type, status, reason, message, lastTransitionTime };
  return existing === undefined
    ? [...conditions, next]
    : conditions.map((c) => (c.type === type ? next : c));
}

/** The next version of a record: bumps version and updatedAt. */
export function revise(d: Deployment, changes: Partial<Deployment>, now: Date): Deployment {
  return { ...d, ...changes, version: d.version + 1, updatedAt: now.toISOString() };
}

export function moveTo(
  d: Deployment,
  status: DeploymentStatus,
  changes: Partial<Deployment>,
  now: Date,
): Deployment {
  return revise(d, { ...changes, status }, now);
}
