/**
 * The shapes of the stateful resources, defined once: the CDK stack builds them in AWS and
 * local/provision.ts builds the same ones in the emulator. Plain data; no CDK imports here.
 */

export const mappingTable = {
  defaultName: 'CertTagMapping',
  /** `<tag key>#<tag value>`, as the original sample wrote it. */
  partitionKey: 'TagKeyValue',
  /** `<certificate ARN>#<certificate name>`, as the original sample wrote it. */
  sortKey: 'CertificateArn#CertName',
  certificateIndex: {
    name: 'CertificateArnIndex',
    partitionKey: 'CertificateArn',
    sortKey: 'TagKeyValue',
  },
} as const;

export const deploymentsTable = {
  defaultName: 'CertDeployments',
  partitionKey: 'JobId',
  /**
   * A certificate's records, newest first: keys only (its one reader, the API's listing, reads
   * the records themselves with BatchGetItem), so that the record's writes, which never change
   * these keys, write nothing to the index.
   */
  certificateIndex: {
    name: 'CertificateArnKeysIndex',
    partitionKey: 'CertificateArn',
    sortKey: 'CreatedAt',
    projection: 'KEYS_ONLY',
  },
  /**
   * The index this table had before, projecting every attribute (every write of a record
   * rewrote it). Declared again only while a stack upgrades (context legacyDeploymentsIndex):
   * CloudFormation adds or removes one index per update, and cannot change a projection.
   */
  legacyCertificateIndex: {
    name: 'CertificateArnIndex',
    projection: 'ALL',
  },
  /** Epoch seconds after which DynamoDB TTL removes a finished deployment record. */
  ttlAttribute: 'ExpiresAt',
} as const;

/**
 * Per-server items (service/src/adapters/dynamodb-server-store.ts): `job#<job id>` holds a job's
 * result on each server, `mapping#<TagKeyValue>|<CertificateArn#CertName>` what each server of a
 * mapping holds. One small item per server: no per-item ceiling on the size of a fleet.
 */
export const serversTable = {
  defaultName: 'CertDeploymentServers',
  partitionKey: 'Owner',
  sortKey: 'InstanceId',
  /** Epoch seconds after which DynamoDB TTL removes a job's per-server result. */
  ttlAttribute: 'ExpiresAt',
} as const;

export const jobQueue = {
  defaultName: 'acm-cert-export-jobs',
  deadLetterName: 'acm-cert-export-jobs-dlq',
  /**
   * Backstop only. Polling keeps a healthy job's message in flight and every receive counts, so
   * the worker's own failure count (deployment record) decides when a failing job goes to the DLQ.
   */
  maxReceiveCount: 1000,
  visibilityTimeoutSeconds: 60,
  /** 14 days: the longest SQS keeps a message. */
  retentionSeconds: 1_209_600,
} as const;

/** EventBridge pattern routing ACM renewals straight to the job queue. */
export const renewalEventPattern = {
  source: ['aws.acm'],
  'detail-type': ['ACM Certificate Available'],
  detail: { Action: ['RENEWAL'] },
} as const;

/**
 * EventBridge pattern routing ACM's daily `Approaching Expiration` events (from 45 days before a
 * certificate expires) to the job queue: a mapping still holding an older serial is deployed
 * again, whatever happened to the renewal event.
 */
export const expirationEventPattern = {
  source: ['aws.acm'],
  'detail-type': ['ACM Certificate Approaching Expiration'],
} as const;

/**
 * EventBridge pattern routing EC2 instances that enter `running` to the job queue: a server
 * started after a deployment gets the certificates mapped to its tags.
 */
export const instanceRunningEventPattern = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
  detail: { state: ['running'] },
} as const;

/** Run Command's terminal command statuses (what the service's rule lets through). */
export const terminalCommandStatuses = ['Success', 'Failed', 'TimedOut', 'Cancelled'] as const;

/**
 * EventBridge pattern routing Run Command's `EC2 Command Status-change Notification` of the
 * service's document, terminal statuses only, to the job queue: the worker finishes a job as soon
 * as its command ended, instead of at its next look (every 5 s without the event).
 */
export function commandStatusEventPattern(document: string) {
  return {
    source: ['aws.ssm'],
    'detail-type': ['EC2 Command Status-change Notification'],
    detail: { 'document-name': [document], status: [...terminalCommandStatuses] },
  } as const;
}

/**
 * The daily expiry check (service/src/messages/expiry-check.ts): the stack's EventBridge
 * Scheduler schedule sends `message` to the job queue at 06:00 UTC, replacing
 * `<aws.scheduler.scheduled-time>` with the time the run was scheduled for; the local run sends
 * the same message by hand (`npm run expiry-check`).
 */
export const expiryCheckSchedule = {
  expression: 'cron(0 6 * * ? *)',
  timeZone: 'UTC',
  message: { type: 'expiry-check', version: 1, scheduledTime: '<aws.scheduler.scheduled-time>' },
} as const;

/**
 * The reconciliation sweep (service/src/messages/reconcile.ts): every mapping compared with ACM
 * and with its servers, what drifted deployed again. An EventBridge Scheduler schedule sends
 * `message` to the job queue, hourly unless the `reconcileSchedule` context key says otherwise
 * (or `off`); the local run sends it by hand (`npm run reconcile`).
 */
export const reconcileSchedule = {
  defaultExpression: 'rate(1 hour)',
  timeZone: 'UTC',
  message: { type: 'reconcile', version: 1, scheduledTime: '<aws.scheduler.scheduled-time>' },
} as const;

/**
 * The daily verify sweep: the reconciliation sweep with `verify`, which also runs the install
 * document's Verify mode on the servers that look converged. Daily at 03:00 UTC (`verifySchedule`),
 * three hours before the expiry check, so that the two never start together;
 * `npm run reconcile -- --verify` by hand.
 */
export const verifySchedule = {
  defaultExpression: 'cron(0 3 * * ? *)',
  timeZone: 'UTC',
  message: {
    type: 'reconcile',
    version: 1,
    verify: true,
    scheduledTime: '<aws.scheduler.scheduled-time>',
  },
} as const;

export const passphraseSecretPrefix = 'acm-passphrase/';
export const documentName = 'Install-ACMCertificate';
