/**
 * The CloudWatch metrics written on the worker's own log lines, as Embedded Metric Format:
 * CloudWatch Logs extracts them from the service's log group, so the task role needs no
 * CloudWatch permission. `Deployments` (dimension `Outcome`) on each job's outcome line, the days
 * to expiry on the expiry check's lines (no dimension: a mapping dimension would be a metric of
 * its own per mapping, billed monthly). Names, units and dimensions come from
 * metrics/definitions.ts, which the stack's alarms and dashboard read too.
 */
import type { DeploymentStatus } from '../domain/deployment.ts';
import { type CloudWatchMetric, metrics, metricsNamespace } from '../metrics/definitions.ts';
import { emfMembers } from '../metrics/emf.ts';

export { metricsNamespace as metricNamespace };

/** Per mapping, each expiry check: days until the installed copy's notAfter. */
export const installedDaysToExpiryMetric = metrics.daysToExpiry.cloudWatch.name;
/** Once per expiry check: the smallest of the above (what the expiry alarm reads). */
export const installedMinDaysToExpiryMetric = metrics.minDaysToExpiry.cloudWatch.name;

/** The members of a job's outcome line that count it: `Deployments` by `Outcome`. */
export function deploymentEmf(
  at: Date,
  status: DeploymentStatus,
  namespace = metricsNamespace,
): Record<string, unknown> {
  return emfMembers(namespace, at, { Outcome: status }, [[metrics.deployments.cloudWatch, 1]]);
}

/**
 * The fields that make a log line an EMF record of these metrics without dimensions (spread
 * them into the line's object). Every other field of the line stays a searchable property.
 */
export function emfFields(
  at: Date,
  values: ReadonlyArray<readonly [CloudWatchMetric, number]>,
  namespace = metricsNamespace,
): Record<string, unknown> {
  return emfMembers(namespace, at, {}, values);
}
