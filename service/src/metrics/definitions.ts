/**
 * Every metric the service emits, in one place: the Prometheus name and labels (/metrics), and
 * the CloudWatch name, unit and dimensions (Embedded Metric Format). The stack's dashboard and
 * alarms (infra/lib/dashboard.ts, infra/lib/alarms.ts) are built from this module, so the names
 * the service writes and the names the stack reads cannot drift. Plain data; its one import is
 * the domain's list of terminal statuses (no runtime imports of its own), so infra imports it
 * as it is.
 */
import { terminalStatusList } from '../domain/deployment.ts';

/** The CloudWatch namespace (METRICS_NAMESPACE's default; the stack sets the same). */
export const metricsNamespace = 'AcmCertExport';

/** The deployment outcomes counted: DeploymentStatus's terminal ones. */
export const deploymentOutcomes = terminalStatusList;
export type DeploymentOutcome = (typeof deploymentOutcomes)[number];

export function isDeploymentOutcome(status: string): status is DeploymentOutcome {
  return (deploymentOutcomes as readonly string[]).includes(status);
}

/** The steps of a deploy job whose durations are observed (worker/deploy-handler.ts). */
export const jobSteps = ['lock', 'export', 'dispatch', 'poll', 'finish'] as const;
export type JobStep = (typeof jobSteps)[number];

/** CloudWatch units the service uses (a subset of the units EMF accepts). */
export type CloudWatchUnit = 'Count' | 'Seconds' | 'None';

export interface CloudWatchMetric {
  readonly name: string;
  readonly unit: CloudWatchUnit;
  /** The one dimension set the metric is written with ([] : none). */
  readonly dimensions: readonly string[];
}

export interface MetricDefinition {
  readonly prometheus: {
    readonly name: string;
    readonly type: 'counter' | 'gauge' | 'histogram';
    readonly help: string;
    readonly labels: readonly string[];
    readonly buckets?: readonly number[];
  };
  /** Absent: Prometheus only (a per-mapping series would be a billed metric per mapping). */
  readonly cloudWatch?: CloudWatchMetric;
}

/** The labels naming one mapping (certificate, name and target tag). */
export const mappingLabels = ['certificate_arn', 'cert_name', 'target'] as const;

export const metrics = {
  deployments: {
    prometheus: {
      name: 'acm_cert_export_deployments_total',
      type: 'counter',
      help: 'Deployments finished, by outcome.',
      labels: ['outcome'],
    },
    cloudWatch: { name: 'Deployments', unit: 'Count', dimensions: ['Outcome'] },
  },
  jobDuration: {
    prometheus: {
      name: 'acm_cert_export_job_duration_seconds',
      type: 'histogram',
      help: 'Deployment jobs, from the request to the recorded outcome, by outcome.',
      labels: ['outcome'],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
    },
    cloudWatch: { name: 'JobDuration', unit: 'Seconds', dimensions: [] },
  },
  stepDuration: {
    prometheus: {
      name: 'acm_cert_export_step_duration_seconds',
      type: 'histogram',
      help: 'One pickup of a deploy job in one step (lock, export, dispatch, poll, finish), by step and result (done, waiting, error).',
      labels: ['step', 'result'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    },
    cloudWatch: { name: 'StepDuration', unit: 'Seconds', dimensions: ['Step'] },
  },
  queueLag: {
    prometheus: {
      name: 'acm_cert_export_queue_lag_seconds',
      type: 'histogram',
      help: "Time from a message's SentTimestamp to its first pickup by a worker.",
      labels: [],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
    },
    cloudWatch: { name: 'QueueLag', unit: 'Seconds', dimensions: [] },
  },
  daysToExpiry: {
    prometheus: {
      name: 'acm_cert_export_mapping_days_to_expiry',
      type: 'gauge',
      help: 'Days until the certificate a mapping last installed expires (computed at each scrape from its notAfter).',
      labels: mappingLabels,
    },
    // CloudWatch has it from the daily expiry check, without a mapping dimension (worker/metrics.ts).
    cloudWatch: { name: 'InstalledCertificateDaysToExpiry', unit: 'None', dimensions: [] },
  },
  minDaysToExpiry: {
    prometheus: {
      name: 'acm_cert_export_min_days_to_expiry',
      type: 'gauge',
      help: 'The smallest acm_cert_export_mapping_days_to_expiry of the mappings this process knows.',
      labels: [],
    },
    cloudWatch: { name: 'InstalledCertificateMinDaysToExpiry', unit: 'None', dimensions: [] },
  },
  serversConverged: {
    prometheus: {
      name: 'acm_cert_export_mapping_servers_converged',
      type: 'gauge',
      help: "Servers of a mapping's target holding the serial it last installed.",
      labels: mappingLabels,
    },
  },
  servers: {
    prometheus: {
      name: 'acm_cert_export_mapping_servers',
      type: 'gauge',
      help: "Servers of a mapping's target the service knows of.",
      labels: mappingLabels,
    },
  },
  awsCalls: {
    prometheus: {
      name: 'acm_cert_export_aws_calls_total',
      type: 'counter',
      help: 'AWS requests sent (every attempt, retries included), by service and operation.',
      labels: ['service', 'operation'],
    },
    cloudWatch: { name: 'AwsCalls', unit: 'Count', dimensions: ['Service', 'Operation'] },
  },
  awsErrors: {
    prometheus: {
      name: 'acm_cert_export_aws_call_errors_total',
      type: 'counter',
      help: 'AWS requests answered with an error, by service, operation and kind (throttled, client, server, network).',
      labels: ['service', 'operation', 'kind'],
    },
    cloudWatch: { name: 'AwsCallErrors', unit: 'Count', dimensions: ['Service', 'Operation'] },
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricId = keyof typeof metrics;

/**
 * Metrics the EMF sink writes, summed over its flush interval (metrics/emf-metrics.ts). The
 * others' CloudWatch values are on the log lines of the events themselves: `Deployments` on each
 * job's outcome line (worker/finish-step.ts), the days to expiry on the expiry check's lines.
 */
export const emfSinkMetrics = [
  'jobDuration',
  'stepDuration',
  'queueLag',
  'awsCalls',
  'awsErrors',
] as const satisfies readonly MetricId[];
