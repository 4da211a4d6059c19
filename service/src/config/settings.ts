import { defaultMaxConcurrency, defaultMaxErrors } from '../domain/rate-control.ts';

/**
 * The settings catalog: every environment variable the service and the waker read, with its
 * type, allowed values, default, range and meaning. The readers (config.ts, waker-config.ts,
 * aws-config.ts) take names, defaults and ranges from here, so the code and docs/settings.md
 * (generated from this catalog: `npm run settings-doc`) cannot drift apart; a unit test fails
 * when a reader reads a name that is not here, or when an entry here is read by nobody.
 *
 * No imports beyond the domain's defaults: aws-config.ts, which local/ imports, reads it too.
 */

/** Sections of docs/settings.md, in order. */
export const settingGroups = {
  aws: 'AWS connection',
  process: 'Process and logs',
  api: 'HTTP API',
  auth: 'Authentication',
  policy: 'What deployments may do',
  worker: 'Worker',
  storage: 'Tables and secrets',
  runCommand: 'Run Command',
  acm: 'ACM export quota',
  scaleIn: 'ECS task scale-in protection',
  notifications: 'Notifications',
  metrics: 'Metrics',
  waker: 'Scale-to-zero waker',
} as const;

export type SettingGroup = keyof typeof settingGroups;

/** Which process reads a setting: the service (container or Lambda) or the waker function. */
export type SettingReader = 'service' | 'waker';

interface Common {
  readonly group: SettingGroup;
  readonly description: string;
  /** Default `['service']`. */
  readonly readBy?: readonly SettingReader[];
  /** Unset and empty stop the process at start. */
  readonly required?: boolean;
  /** What the default is when it is not a constant (derived from another setting). */
  readonly defaultText?: string;
  /** The stack property (infra/) or resource this variable is set from, when the stack sets it. */
  readonly stack?: string;
}

export interface StringSetting extends Common {
  readonly type: 'string';
  readonly default?: string;
  /** The accepted form, in words (the reader checks it). */
  readonly format?: string;
}
export interface UrlSetting extends Common {
  readonly type: 'url';
  readonly default?: string;
}
export interface IntegerSetting extends Common {
  readonly type: 'integer';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit?: string;
}
export interface BooleanSetting extends Common {
  readonly type: 'boolean';
  readonly default: boolean;
}
export interface EnumSetting<T extends string = string> extends Common {
  readonly type: 'enum';
  readonly values: readonly T[];
  readonly default?: T;
}
/** A comma-separated list. */
export interface ListSetting extends Common {
  readonly type: 'list';
  readonly default?: string;
  readonly format?: string;
}
/** A JSON array; `[]` when unset. */
export interface JsonSetting extends Common {
  readonly type: 'json';
  /** The shape, shown in errors and in the docs. */
  readonly example: string;
}
/** A variable no longer read: set, it stops the process with what replaces it. */
export interface RemovedSetting extends Common {
  readonly type: 'removed';
  readonly replacedBy: string;
}

export type SettingSpec =
  | StringSetting
  | UrlSetting
  | IntegerSetting
  | BooleanSetting
  | EnumSetting
  | ListSetting
  | JsonSetting
  | RemovedSetting;

export type Setting = SettingSpec & {
  readonly name: string;
  /** A family of names (`AWS_ENDPOINT_URL_<SERVICE>`): the names it covers. */
  readonly pattern?: RegExp;
};

type Named<T extends Record<string, SettingSpec>> = {
  readonly [K in keyof T]: T[K] & { readonly name: K & string };
};

function catalog<T extends Record<string, SettingSpec>>(specs: T): Named<T> {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, { ...spec, name }]),
  ) as unknown as Named<T>;
}

/** An enum entry whose type keeps its values and whether it has a default. */
function choice<const T extends string, const D extends T | undefined = undefined>(
  spec: Omit<EnumSetting<T>, 'type' | 'default'> & {
    readonly values: readonly T[];
    readonly default?: D;
  },
): EnumSetting<T> & { readonly default: D } {
  return { type: 'enum', ...spec } as EnumSetting<T> & { readonly default: D };
}

const both: readonly SettingReader[] = ['service', 'waker'];

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const settings = catalog({
  // AWS connection (aws-config.ts), read by the service and the waker.
  AWS_REGION: {
    group: 'aws',
    type: 'string',
    required: true,
    readBy: both,
    format: 'a region name, e.g. `us-east-1`',
    defaultText: '`AWS_DEFAULT_REGION`',
    description: 'The region of the service, its tables, queue and secrets.',
    stack: 'the stack’s region',
  },
  AWS_DEFAULT_REGION: {
    group: 'aws',
    type: 'string',
    readBy: both,
    description: 'Read when `AWS_REGION` is unset, as the AWS SDK does.',
  },
  AWS_ENDPOINT_URL: {
    group: 'aws',
    type: 'url',
    readBy: both,
    description:
      'One endpoint for every AWS service (the local emulator); unset: the real AWS endpoints.',
  },
  AWS_ENDPOINT_URL_SERVICE: {
    group: 'aws',
    type: 'url',
    readBy: both,
    description:
      'The endpoint of one service, winning over `AWS_ENDPOINT_URL` (the SDK’s semantics); `<SERVICE>` is the SDK’s service id.',
  },
  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: {
    group: 'aws',
    type: 'boolean',
    default: false,
    readBy: both,
    description: '`true`: the endpoint variables above are ignored (the SDK’s semantics).',
  },
  AWS_MAX_ATTEMPTS: {
    group: 'aws',
    type: 'integer',
    default: 5,
    min: 1,
    max: 20,
    readBy: both,
    description:
      'Attempts per AWS call, the first included (SendCommand: made by the service, each resend after looking for the command an attempt may have sent).',
    stack: 'the waker: `2`',
  },
  AWS_RETRY_MODE: choice({
    group: 'aws',
    values: ['adaptive', 'standard'],
    readBy: both,
    defaultText: '`adaptive` for ACM, `standard` for the others',
    description:
      'The SDK’s retry mode for every client. Unset: adaptive for ACM (a fixed per-account rate quota, where client-side rate adaptation pays), standard for the rest, where adaptive mode’s shared rate limiter slows every job after a few throttled calls.',
  }),

  // The process.
  LOG_LEVEL: choice({
    group: 'process',
    values: logLevels,
    default: 'info',
    readBy: both,
    description: 'The lowest level logged.',
    stack: 'the waker: `info`',
  }),
  LOG_FORMAT: choice({
    group: 'process',
    values: ['auto', 'json', 'pretty'],
    default: 'auto',
    description:
      'Log lines: `json` (one JSON object a line, what CloudWatch and files get), `pretty` (readable, in colour), `auto`: pretty when standard output is a terminal, JSON otherwise.',
  }),
  API_ENABLED: {
    group: 'process',
    type: 'boolean',
    default: true,
    description: 'Run the HTTP API in this process.',
    stack: 'the deployment profile',
  },
  WORKER_ENABLED: {
    group: 'process',
    type: 'boolean',
    default: true,
    description: 'Run the queue worker in this process.',
    stack: 'the deployment profile',
  },

  // The HTTP API.
  HOST: {
    group: 'api',
    type: 'string',
    default: '0.0.0.0',
    description: 'The address the API listens on.',
  },
  PORT: {
    group: 'api',
    type: 'integer',
    default: 8080,
    min: 0,
    max: 65535,
    description: 'The API’s TCP port (0: any free port).',
    stack: '`port` (the container)',
  },
  API_BODY_LIMIT_BYTES: {
    group: 'api',
    type: 'integer',
    default: 16 * 1024,
    min: 1024,
    max: 1024 * 1024,
    unit: 'bytes',
    description: 'The largest request body; a larger one is refused with `413 PAYLOAD_TOO_LARGE`.',
  },
  API_DEADLINE_SECONDS: {
    group: 'api',
    type: 'integer',
    default: 25,
    min: 1,
    max: 600,
    unit: 'seconds',
    description:
      'How long a request may wait on AWS: still waiting after this, it is answered `503 DEPENDENCY_UNAVAILABLE` with `Retry-After`, before API Gateway (29 s) or the ALB (60 s) gives up without an answer. A write answered so may still be carried out: retry it with the same `Idempotency-Key`.',
  },
  PUBLIC_BASE_URL: {
    group: 'api',
    type: 'url',
    defaultText: 'the request’s host',
    description: 'The base URL of the status links the API returns.',
  },

  // Authentication (docs/auth.md).
  AUTH_MODE: choice({
    group: 'auth',
    values: ['sts', 'lambda', 'none'],
    default: 'sts',
    description:
      '`sts`: signed GetCallerIdentity tokens, replayed to STS ([auth.md](auth.md)); `lambda`: API Gateway’s IAM identity; `none`: everyone is `anonymous` and may do everything (only on your own machine; the service logs a warning).',
    stack: 'the deployment profile',
  }),
  AUTH_AUDIENCE: {
    group: 'auth',
    type: 'string',
    default: 'acm-cert-export',
    description:
      'The value the signed `x-acm-cert-export-server-id` header must carry; give each deployment (e.g. dev and prod) its own, so that a token for one is refused by the other.',
    stack: '`authAudience`',
  },
  AUTH_STS_ENDPOINT: {
    group: 'auth',
    type: 'url',
    defaultText:
      '`https://sts.<AWS_REGION>.amazonaws.com`, or `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` when set',
    description:
      'Where tokens are replayed (never a host taken from the request); clients sign for this host.',
  },
  AUTH_MAX_TOKEN_AGE_SECONDS: {
    group: 'auth',
    type: 'integer',
    default: 300,
    min: 30,
    max: 900,
    unit: 'seconds',
    description: 'How old a token may be, and the clock skew allowed.',
  },
  AUTH_PRINCIPALS: {
    group: 'auth',
    type: 'json',
    example: '[{"principal":"arn:...","actions":["read","deploy"],"targets":["env=dev"]}]',
    description:
      'Who may do what: rules of an IAM ARN pattern, its actions (`read`, `deploy`, `install-options`) and the targets it may deploy to ([auth.md](auth.md#rules)); `[]`: nobody.',
    stack: '`principals`',
  },

  // What every deployment must respect.
  ALLOWED_CERTIFICATE_ARNS: {
    group: 'policy',
    type: 'list',
    format: 'comma-separated ARNs, exact or ending in `*`',
    defaultText: 'empty: any',
    description:
      'The certificates the service will export; others are refused with `403 CERTIFICATE_NOT_ALLOWED`.',
    stack: '`allowedCertificateArns`',
  },
  TARGET_TAG_KEYS: {
    group: 'policy',
    type: 'list',
    default: 'env',
    format: 'comma-separated tag keys',
    description:
      'The tag keys a deployment’s target may name; any other is refused (API 400, queue DLQ).',
    stack: '`targetTagKey`',
  },
  ALLOWED_RELOAD_COMMANDS: {
    group: 'policy',
    type: 'json',
    example: '["/usr/sbin/nginx -s reload"]',
    description:
      'The reload commands a deployment may name, each an absolute path with arguments; `[]`: none (each server has its own list too).',
    stack: '`allowedReloadCommands`',
  },
  CERTIFICATE_REGIONS: {
    group: 'policy',
    type: 'list',
    format: 'comma-separated region names',
    defaultText: '`AWS_REGION`',
    description: 'The regions whose certificates may be exported, each in its own region.',
    stack: '`certificateRegions`',
  },

  // The queue worker.
  QUEUE_URL: {
    group: 'worker',
    type: 'url',
    required: true,
    readBy: both,
    description: 'The job queue (the API sends to it, the worker and the waker read it).',
    stack: 'the job queue',
  },
  DLQ_URL: {
    group: 'worker',
    type: 'url',
    required: true,
    description: 'The job queue’s dead-letter queue.',
    stack: 'the dead-letter queue',
  },
  WORKER_CONCURRENCY: {
    group: 'worker',
    type: 'integer',
    default: 10,
    min: 1,
    max: 100,
    description: 'Messages one process works on at once.',
  },
  WORKER_VISIBILITY_TIMEOUT_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 60,
    min: 10,
    max: 43_200,
    unit: 'seconds',
    description: 'A message’s visibility timeout while a step runs (the heartbeat extends it).',
  },
  POLL_INITIAL_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 1,
    min: 0,
    max: 900,
    unit: 'seconds',
    description: 'The first look at a command after it is sent (adaptive polling).',
  },
  POLL_MAX_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 30,
    min: 1,
    max: 900,
    unit: 'seconds',
    description: 'The longest wait between two looks; at least `POLL_INITIAL_SECONDS`.',
  },
  WORKER_MAX_FAILURES: {
    group: 'worker',
    type: 'integer',
    default: 5,
    min: 1,
    max: 100,
    description: 'Failed attempts of one job before its message goes to the dead-letter queue.',
  },
  COMMAND_LOOK_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 5,
    min: 1,
    max: 300,
    unit: 'seconds',
    description:
      'While a job’s command runs and no Run Command status-change event came, how often the command watcher looks at it (the event resumes the job at once).',
  },
  CANCEL_CHECK_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 15,
    min: 1,
    max: 300,
    unit: 'seconds',
    description: 'How often a running job’s record is read for a cancel request.',
  },
  WORKER_RECEIVE_WAIT_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 20,
    min: 0,
    max: 20,
    unit: 'seconds',
    description: 'The long-poll wait of each ReceiveMessage.',
  },
  LOCK_RETRY_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 5,
    min: 1,
    max: 900,
    unit: 'seconds',
    description:
      'How long a job waiting for another job on the same certificate and target waits before it looks again.',
  },
  JOB_TIMEOUT_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 3600,
    min: 10,
    max: 43_200,
    unit: 'seconds',
    description:
      'How long a job waits for its command; then the command is cancelled and the job ends TimedOut.',
  },
  INSTANCE_SETTLE_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 60,
    min: 0,
    max: 900,
    unit: 'seconds',
    description:
      'The wait before installing on a server that just started, for its SSM Agent to register.',
  },
  AGENT_WAIT_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 900,
    min: 0,
    max: 43_200,
    unit: 'seconds',
    description: 'How long a job for named servers waits for their SSM Agents to come online.',
  },
  SHUTDOWN_GRACE_SECONDS: {
    group: 'worker',
    type: 'integer',
    default: 25,
    min: 1,
    max: 120,
    unit: 'seconds',
    description:
      'How long a stopping process waits for the steps in flight (ECS’s stopTimeout is 30 s by default); then it hands the messages of the steps not finished back to the queue (up to 3 s more) and exits.',
  },

  // Tables and secrets.
  MAPPING_TABLE: {
    group: 'storage',
    type: 'string',
    default: 'CertTagMapping',
    description: 'The DynamoDB table of mappings (certificate, name, target).',
    stack: 'the stack’s table',
  },
  DEPLOYMENTS_TABLE: {
    group: 'storage',
    type: 'string',
    default: 'CertDeployments',
    description: 'The DynamoDB table of deployments (jobs) and the export quota’s claims.',
    stack: 'the stack’s table',
  },
  SERVERS_TABLE: {
    group: 'storage',
    type: 'string',
    default: 'CertDeploymentServers',
    description: 'The DynamoDB table of per-server results and what each server holds.',
    stack: 'the stack’s table',
  },
  SECRET_PREFIX: {
    group: 'storage',
    type: 'string',
    default: 'acm-passphrase/',
    description: 'The name prefix of the passphrase secrets (the IAM policies are scoped to it).',
    stack: 'the stack’s prefix',
  },
  SECRETS_KMS_KEY_ID: {
    group: 'storage',
    type: 'string',
    defaultText: 'Secrets Manager’s own key',
    description: 'The KMS key the passphrase secrets are encrypted with.',
    stack: 'the stack’s key, when it has one',
  },
  SECRET_RECOVERY_DAYS: {
    group: 'storage',
    type: 'integer',
    default: 7,
    min: 7,
    max: 30,
    unit: 'days',
    description: 'The recovery window of a secret deleted when a mapping stops being managed.',
  },

  // Run Command.
  SSM_DOCUMENT_NAME: {
    group: 'runCommand',
    type: 'string',
    default: 'Install-ACMCertificate',
    description: 'The SSM document that installs on the servers.',
    stack: 'the stack’s document',
  },
  SSM_DOCUMENT_VERSION: {
    group: 'runCommand',
    type: 'string',
    defaultText: 'the document’s default version',
    description: 'The version of the document to run.',
  },
  SSM_MAX_CONCURRENCY: {
    group: 'runCommand',
    type: 'string',
    default: defaultMaxConcurrency,
    format: '`1` or more, or `1%`–`100%`',
    description:
      'How many servers run the install at once, as SSM’s `MaxConcurrency` takes it ([operations.md](operations.md)).',
  },
  SSM_MAX_ERRORS: {
    group: 'runCommand',
    type: 'string',
    default: defaultMaxErrors,
    format: '`0` or more, or `1%`–`100%`',
    description:
      'How many failed servers are tolerated before the rest are not attempted, as SSM’s `MaxErrors` takes it (on two or more servers a percentage tolerates at least one).',
  },
  SSM_TIMEOUT_SECONDS: {
    group: 'runCommand',
    type: 'integer',
    default: 600,
    min: 30,
    max: 2_592_000,
    unit: 'seconds',
    description: 'The command’s delivery timeout (SendCommand `TimeoutSeconds`).',
  },

  // The ACM export quota (docs/operations.md).
  ACM_EXPORT_QUOTA_PER_SECOND: {
    group: 'acm',
    type: 'integer',
    default: 5,
    min: 1,
    max: 1000,
    description:
      'The account’s ExportCertificate quota in each region, shared by every worker process; set it after raising the quota in Service Quotas.',
  },
  ACM_EXPORT_QUOTA_HEARTBEAT_SECONDS: {
    group: 'acm',
    type: 'integer',
    default: 5,
    min: 1,
    max: 60,
    unit: 'seconds',
    description:
      'How often a process with exports waiting renews its claim on the quota; shorter lets a new process count sooner and costs more requests.',
  },
  ACM_EXPORT_RATE_PER_SECOND: {
    group: 'acm',
    type: 'removed',
    replacedBy: 'ACM_EXPORT_QUOTA_PER_SECOND',
    description:
      'The per-process rate the shared quota replaced: set, it stops the service at start.',
  },

  // ECS task scale-in protection.
  ECS_AGENT_URI: {
    group: 'scaleIn',
    type: 'url',
    defaultText: 'unset: no protection',
    description:
      'The ECS agent’s endpoint, which ECS sets in every container: the worker protects its task from scale-in while it holds messages.',
    stack: 'ECS',
  },
  TASK_PROTECTION_MINUTES: {
    group: 'scaleIn',
    type: 'integer',
    default: 10,
    min: 1,
    max: 2880,
    unit: 'minutes',
    description: 'How long one protection lasts; renewed once half of it has passed while busy.',
  },
  TASK_PROTECTION_RELEASE_AFTER_IDLE_SECONDS: {
    group: 'scaleIn',
    type: 'integer',
    default: 15,
    min: 0,
    max: 600,
    unit: 'seconds',
    description: 'Idle this long, the worker releases the protection.',
  },

  // Notifications of the daily expiry check (docs/operations.md).
  NOTIFY_TOPIC_ARN: {
    group: 'notifications',
    type: 'string',
    format: 'a standard (not FIFO) SNS topic ARN',
    defaultText: 'unset: notifications are only logged',
    description: 'The SNS topic the expiry check’s notifications go to.',
    stack: 'the alarm topic',
  },
  EXPIRY_NOTIFY_DAYS: {
    group: 'notifications',
    type: 'integer',
    default: 14,
    min: 1,
    max: 365,
    unit: 'days',
    description: 'A server’s installed copy expiring in fewer days than this is notified.',
    stack: '`expiryAlarmDays`',
  },
  RENEWAL_GRACE_HOURS: {
    group: 'notifications',
    type: 'integer',
    default: 24,
    min: 1,
    max: 720,
    unit: 'hours',
    description: 'A server still holding an older serial this long after the export is notified.',
  },

  // Metrics (docs/operations.md, Metrics).
  METRICS_ENABLED: {
    group: 'metrics',
    type: 'boolean',
    default: true,
    description:
      'Serve Prometheus metrics on `GET /metrics` of a listener of its own (METRICS_HOST:METRICS_PORT), never on the API’s port.',
    stack: '`true` in the container, `false` in Lambda',
  },
  METRICS_HOST: {
    group: 'metrics',
    type: 'string',
    defaultText: 'the value of `HOST`',
    description:
      'The address the metrics listener listens on: where the API listens unless set (a local run on 127.0.0.1 keeps its metrics there too; in ECS the task’s own address, whose security group opens the port only to `metricsIngressCidrs`).',
  },
  METRICS_PORT: {
    group: 'metrics',
    type: 'integer',
    default: 9464,
    min: 0,
    max: 65535,
    description:
      'The metrics listener’s port (0: any free port, for tests). Not in the load balancer’s target group.',
    stack: '`metricsPort`',
  },
  METRICS_MAX_MAPPINGS: {
    group: 'metrics',
    type: 'integer',
    default: 1000,
    min: 0,
    max: 100_000,
    unit: 'mappings',
    description:
      'At most this many mappings have per-mapping series (days to expiry, servers converged); the one observed longest ago makes room. 0: none.',
  },
  METRICS_EMF: {
    group: 'metrics',
    type: 'boolean',
    default: false,
    description:
      'Also write the metrics as CloudWatch Embedded Metric Format lines on stdout (job and step durations, queue lag, AWS calls). Deployments and days to expiry are on their own log lines always.',
    stack: '`true`',
  },
  METRICS_EMF_FLUSH_SECONDS: {
    group: 'metrics',
    type: 'integer',
    default: 60,
    min: 1,
    max: 3600,
    unit: 'seconds',
    description:
      'How often the EMF lines are written (what happened meanwhile, summed); in Lambda, after each invocation.',
  },
  METRICS_NAMESPACE: {
    group: 'metrics',
    type: 'string',
    default: 'AcmCertExport',
    description:
      'The CloudWatch namespace of every EMF metric (the stack’s alarms and dashboard read `AcmCertExport`).',
    stack: '`AcmCertExport`',
  },

  // The waker (scale-to-zero deployments only).
  WORKER_CLUSTER: {
    group: 'waker',
    type: 'string',
    required: true,
    readBy: ['waker'],
    format: 'an ECS cluster name or ARN',
    description: 'The cluster of the worker’s ECS service.',
    stack: 'the service’s cluster',
  },
  WORKER_SERVICE: {
    group: 'waker',
    type: 'string',
    required: true,
    readBy: ['waker'],
    format: 'an ECS service name or ARN',
    description:
      'The worker’s ECS service, whose desired count the waker sets to 1 when work waits.',
    stack: 'the worker’s service',
  },
});

/** Every entry, in catalog order; `AWS_ENDPOINT_URL_<SERVICE>` as one family. */
export const allSettings: readonly Setting[] = Object.values(settings).map((setting) =>
  setting.name === 'AWS_ENDPOINT_URL_SERVICE'
    ? { ...setting, name: 'AWS_ENDPOINT_URL_<SERVICE>', pattern: /^AWS_ENDPOINT_URL_[A-Z0-9_]+$/ }
    : setting,
);

/** The catalog entry of an environment variable's name, a family's included. */
export function settingNamed(name: string): Setting | undefined {
  return allSettings.find((s) => s.name === name || s.pattern?.test(name) === true);
}
