/**
 * The CloudWatch metrics the worker writes, as Embedded Metric Format log lines: CloudWatch Logs
 * extracts them from the service's log group, so the task role needs no CloudWatch permission.
 * No dimensions: one metric per name (each dimension value would be a metric of its own, billed
 * monthly). The stack's alarms read these names (infra/lib/alarms.ts; a template test checks
 * they are the same).
 */
import type { DeploymentStatus } from '../domain/deployment.ts';

export const metricNamespace = 'AcmCertExport';

/** One count per finished deployment, by outcome: `DeploymentsSucceeded`, `DeploymentsFailed`, … */
export function deploymentMetricName(status: DeploymentStatus): string {
  return `Deployments${status}`;
}

/** Per mapping, each expiry check: days until the installed copy's notAfter. */
export const installedDaysToExpiryMetric = 'InstalledCertificateDaysToExpiry';
/** Once per expiry check: the smallest of the above (what the expiry alarm reads). */
export const installedMinDaysToExpiryMetric = 'InstalledCertificateMinDaysToExpiry';

export type MetricUnit = 'Count' | 'None';

/**
 * The fields that make a log line an EMF record of these metrics (spread them into the line's
 * object). Every other field of the line stays a searchable property, not a metric.
 */
export function emfFields(
  at: Date,
  metrics: Readonly<Record<string, { readonly value: number; readonly unit: MetricUnit }>>,
): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: metricNamespace,
          Dimensions: [[]],
          Metrics: Object.entries(metrics).map(([name, m]) => ({ Name: name, Unit: m.unit })),
        },
      ],
    },
    ...Object.fromEntries(Object.entries(metrics).map(([name, m]) => [name, m.value])),
  };
}
