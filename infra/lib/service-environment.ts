/**
 * The environment the service reads (names from service/src/config/config.ts), built from the
 * resource names. One definition for every place that starts the service: the ECS task and the
 * Lambda function of the CDK stack, docker-compose.yml and the no-Docker local run
 * (local/stack-env.ts). Plain strings in, plain strings out: no CDK here, so the local tools can
 * import it too. A unit test feeds the result to the service's own `loadConfig`.
 */

export interface ServiceResources {
  readonly region?: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly mappingTable: string;
  readonly deploymentsTable: string;
  readonly serversTable: string;
  readonly documentName: string;
  readonly secretPrefix: string;
  readonly secretsKmsKeyId?: string;
  /** Empty: every certificate of the account. */
  readonly allowedCertificateArns: readonly string[];
  /** The stack's target tag key(s): the service refuses deployments to any other. */
  readonly targetTagKeys: readonly string[];
  /** Reload commands deployments may ask for; empty: none. */
  readonly allowedReloadCommands: readonly string[];
  /** Regions whose certificates the service exports; absent: the service's own region. */
  readonly certificateRegions?: readonly string[];
  /** The SNS topic of the worker's notifications; absent: the worker only logs them. */
  readonly notifyTopicArn?: string;
  /** The expiry check notifies copies expiring in fewer days than this (the alarm's threshold). */
  readonly expiryNotifyDays?: number;
}

export interface ServiceRole {
  readonly apiEnabled: boolean;
  readonly workerEnabled: boolean;
  /** sts behind an ALB or locally, lambda behind API Gateway, none only for throwaway local runs. */
  readonly authMode: 'sts' | 'lambda' | 'none';
  readonly principalsJson: string;
  readonly authAudience: string;
  readonly port?: number;
  /**
   * The stack's metrics: the /metrics listener's port (the ECS task), or none (Lambda: nothing
   * could scrape it), and EMF lines for CloudWatch in the namespace the dashboard and alarms read.
   * Absent (local runs): the service's defaults (listener on 9464, no EMF).
   */
  readonly metrics?: { readonly port?: number; readonly emf: boolean; readonly namespace: string };
}

/** Variables of the service's environment, in a stable order. */
export function serviceEnvironment(
  resources: ServiceResources,
  role: ServiceRole,
): Record<string, string> {
  return {
    ...(resources.region === undefined ? {} : { AWS_REGION: resources.region }),
    API_ENABLED: String(role.apiEnabled),
    WORKER_ENABLED: String(role.workerEnabled),
    ...(role.port === undefined ? {} : { PORT: String(role.port) }),
    ...(role.metrics === undefined
      ? {}
      : {
          METRICS_ENABLED: String(role.metrics.port !== undefined),
          ...(role.metrics.port === undefined ? {} : { METRICS_PORT: String(role.metrics.port) }),
          METRICS_EMF: String(role.metrics.emf),
          METRICS_NAMESPACE: role.metrics.namespace,
        }),
    AUTH_MODE: role.authMode,
    AUTH_AUDIENCE: role.authAudience,
    AUTH_PRINCIPALS: role.principalsJson,
    QUEUE_URL: resources.queueUrl,
    DLQ_URL: resources.deadLetterQueueUrl,
    MAPPING_TABLE: resources.mappingTable,
    DEPLOYMENTS_TABLE: resources.deploymentsTable,
    SERVERS_TABLE: resources.serversTable,
    SSM_DOCUMENT_NAME: resources.documentName,
    SECRET_PREFIX: resources.secretPrefix,
    ...(resources.secretsKmsKeyId === undefined
      ? {}
      : { SECRETS_KMS_KEY_ID: resources.secretsKmsKeyId }),
    ALLOWED_CERTIFICATE_ARNS: resources.allowedCertificateArns.join(','),
    TARGET_TAG_KEYS: resources.targetTagKeys.join(','),
    ALLOWED_RELOAD_COMMANDS: JSON.stringify(resources.allowedReloadCommands),
    ...(resources.certificateRegions === undefined
      ? {}
      : { CERTIFICATE_REGIONS: resources.certificateRegions.join(',') }),
    // The worker's alone: the API never publishes.
    ...(!role.workerEnabled || resources.notifyTopicArn === undefined
      ? {}
      : { NOTIFY_TOPIC_ARN: resources.notifyTopicArn }),
    ...(!role.workerEnabled || resources.expiryNotifyDays === undefined
      ? {}
      : { EXPIRY_NOTIFY_DAYS: String(resources.expiryNotifyDays) }),
  };
}
