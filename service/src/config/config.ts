import { installOptionPatterns, normalReloadCommand } from '../domain/install-options.ts';
import { isReservedTagKey, tagKeyPattern } from '../domain/names.ts';
import {
  defaultMaxConcurrency,
  defaultMaxErrors,
  isMaxConcurrency,
  isMaxErrors,
} from '../domain/rate-control.ts';
import { type AwsConfig, readAwsConfig } from './aws-config.ts';

/**
 * Everything the service reads from its environment, read and validated once at start by
 * `loadConfig` (the composition root passes it down; nothing else reads process.env).
 */
export interface Config {
  readonly aws: AwsConfig;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly api: {
    readonly enabled: boolean;
    readonly host: string;
    readonly port: number;
    /** Maximum request body in bytes. */
    readonly bodyLimit: number;
    /** Public base URL used in status links; defaults to the request's host. */
    readonly publicBaseUrl?: string;
  };
  readonly auth: {
    /** sts: verify signed GetCallerIdentity (container behind an ALB); lambda: API Gateway IAM identity; none: local only. */
    readonly mode: 'sts' | 'lambda' | 'none';
    /** Value the signed `x-acm-cert-export-server-id` header must carry. */
    readonly audience: string;
    /** The STS endpoint tokens are replayed to (never a host taken from the request). */
    readonly stsEndpoint: string;
    /** Allowed clock skew / token age in seconds. */
    readonly maxTokenAgeSeconds: number;
    /** JSON list of {principal, actions, targets} rules. */
    readonly principals: readonly PrincipalRule[];
  };
  readonly worker: {
    readonly enabled: boolean;
    readonly queueUrl: string;
    readonly deadLetterQueueUrl: string;
    /** Messages processed at once by one container. */
    readonly concurrency: number;
    /** Visibility timeout while a step runs (heartbeat extends it). */
    readonly visibilityTimeoutSeconds: number;
    /** First poll delay after dispatch, growth factor and cap (adaptive polling). */
    readonly pollInitialSeconds: number;
    readonly pollMaxSeconds: number;
    /** Consecutive failed attempts of one job before its message is moved to the DLQ. */
    readonly maxFailures: number;
    /**
     * While a job's command runs, the process's command watcher looks at it this often when no
     * Run Command status-change event came (the event resumes the job at once).
     */
    readonly commandLookSeconds: number;
    /** …and reads the job's record this often, for a cancel request. */
    readonly cancelCheckSeconds: number;
    /** Long-poll wait of each ReceiveMessage. */
    readonly receiveWaitSeconds: number;
    /** Delay before a job waiting for another job on the same certificate and target looks again. */
    readonly lockRetrySeconds: number;
    /** Give up waiting for a command after this long: the job ends TimedOut. */
    readonly jobTimeoutSeconds: number;
    /** Delay before installing on a server that just started, for its SSM agent to register. */
    readonly instanceSettleSeconds: number;
    /** How long a job for named servers waits for their SSM agents to come online. */
    readonly agentWaitSeconds: number;
    /** How long a stopping container waits for in-flight steps (ECS stopTimeout is 30 s by default). */
    readonly shutdownGraceSeconds: number;
  };
  readonly tables: {
    readonly mappings: string;
    readonly deployments: string;
    /** Per-server results and what each server of a mapping holds (ports/server-store.ts). */
    readonly servers: string;
  };
  readonly secrets: {
    readonly prefix: string;
    readonly kmsKeyId?: string;
    readonly deletionRecoveryDays: number;
  };
  readonly ssm: {
    readonly documentName: string;
    readonly documentVersion?: string;
    /** Servers running the install at once: a number or a percentage of the target (`10%`). */
    readonly maxConcurrency: string;
    /**
     * Failed servers tolerated before Run Command stops sending to the rest: a number or a
     * percentage (`10%`; on two or more servers a percentage tolerates at least one failure).
     */
    readonly maxErrors: string;
    readonly timeoutSeconds: number;
  };
  readonly acm: {
    /**
     * The account's ExportCertificate quota per region (5 per second by default), shared by
     * every worker task through claims in the deployments table (adapters/shared-export-quota.ts).
     */
    readonly exportQuotaPerSecond: number;
    /** How often a task with exports waiting renews its claim and reads the others'. */
    readonly exportQuotaHeartbeatSeconds: number;
  };
  /** ECS task scale-in protection while the worker holds messages (on ECS only). */
  readonly scaleInProtection: {
    /** ECS_AGENT_URI, which the ECS agent sets in every container; unset: no protection. */
    readonly agentUri?: string;
    /** How long one protection lasts; renewed once half of it has passed while busy. */
    readonly minutes: number;
    /** Idle this long before the protection is released. */
    readonly releaseAfterIdleSeconds: number;
  };
  /** What the daily expiry check notifies about (service/src/worker/expiry-problems.ts). */
  readonly notifications: {
    /** The SNS topic (the stack's alarm topic); unset: notifications are only logged. */
    readonly topicArn?: string;
    /** A server's installed copy expiring in fewer days than this is notified. */
    readonly expiryDays: number;
    /** A server still holding an older serial this long after the export is notified. */
    readonly renewalGraceHours: number;
  };
  /** Certificate ARNs (exact or with a trailing `*`) the service will export; empty = any. */
  readonly allowedCertificateArns: readonly string[];
  /** What every deployment must respect, whoever asks for it. */
  readonly policy: {
    /** The stack's target tag keys; any other is refused (API 400, queue DLQ). */
    readonly targetTagKeys: readonly string[];
    /** Reload commands a deployment may name; empty = none (each server has its own list too). */
    readonly allowedReloadCommands: readonly string[];
    /** Regions whose certificates may be exported (each in its own region); default AWS_REGION. */
    readonly certificateRegions: readonly string[];
  };
}

/**
 * `read`: list and follow; `deploy`: deploy to and stop managing on the rule's targets;
 * `install-options`: set install options (directories, owner, group, key mode, reload command)
 * in a deployment, which decide what runs as root on the servers.
 */
export type Action = 'read' | 'deploy' | 'install-options';

export const actions: readonly Action[] = ['read', 'deploy', 'install-options'];

export interface PrincipalRule {
  /** IAM ARN, exact or with `*` wildcards, e.g. `arn:aws:iam::123456789012:role/ci-*`. */
  readonly principal: string;
  readonly actions: readonly Action[];
  /** Targets this principal may deploy to, `key=value` with optional `*` in the value. */
  readonly targets: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function str(env: Env, name: string, fallback?: string): string {
  const value = env[name]?.trim();
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${name} is required`);
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = optional(env, name) ?? fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function url(env: Env, name: string, fallback?: string): string {
  const value = str(env, name, fallback);
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${value}"`);
  }
  return value;
}

/** A setting holding a JSON array; `[]` when unset. `example` shows the shape in the error. */
function jsonList(env: Env, name: string, example: string): unknown[] {
  const raw = optional(env, name);
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} must be JSON: ${example}`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(`${name} must be a JSON array: ${example}`);
  return parsed;
}

function principals(env: Env): PrincipalRule[] {
  const parsed = jsonList(
    env,
    'AUTH_PRINCIPALS',
    '[{"principal":"arn:...","actions":["read","deploy"],"targets":["env=dev"]}]',
  );
  return parsed.map((entry, i) => {
    const where = `AUTH_PRINCIPALS[${i}]`;
    if (typeof entry !== 'object' || entry === null)
      throw new ConfigError(`${where} must be an object`);
    const { principal, actions: ruleActions, targets } = entry as Record<string, unknown>;
    if (
      typeof principal !== 'string' ||
      !/^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):[A-Za-z0-9+=,.@_/*-]+$/.test(principal)
    ) {
      throw new ConfigError(
        `${where}.principal must be an IAM ARN pattern, got ${JSON.stringify(principal)}`,
      );
    }
    if (
      !Array.isArray(ruleActions) ||
      ruleActions.length === 0 ||
      !ruleActions.every((a) => (actions as readonly unknown[]).includes(a))
    ) {
      throw new ConfigError(
        `${where}.actions must be a non-empty list of ${actions.map((a) => `"${a}"`).join(', ')}`,
      );
    }
    const list = targets ?? [];
    if (!Array.isArray(list) || !list.every((t) => typeof t === 'string' && /^[^=]+=.+$/.test(t))) {
      throw new ConfigError(`${where}.targets must be a list of "key=value" strings`);
    }
    return { principal, actions: ruleActions as Action[], targets: list as string[] };
  });
}

const tagKey = new RegExp(tagKeyPattern);

/** CERTIFICATE_REGIONS: comma-separated region names; the service's own region when unset. */
function certificateRegions(env: Env, home: string): string[] {
  const regions = (optional(env, 'CERTIFICATE_REGIONS') ?? home)
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  for (const region of regions) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
      throw new ConfigError(
        `CERTIFICATE_REGIONS: "${region}" is not a region name (for example eu-west-1)`,
      );
    }
  }
  if (regions.length === 0) {
    throw new ConfigError('CERTIFICATE_REGIONS must name at least one region');
  }
  return [...new Set(regions)];
}

function targetTagKeys(env: Env): string[] {
  const keys = (optional(env, 'TARGET_TAG_KEYS') ?? 'env')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  for (const key of keys) {
    if (!tagKey.test(key) || isReservedTagKey(key)) {
      throw new ConfigError(
        `TARGET_TAG_KEYS: "${key}" is not a tag key a Run Command target can name (letters, digits, spaces and _ . : / = @ -, not starting with aws:)`,
      );
    }
  }
  if (keys.length === 0) throw new ConfigError('TARGET_TAG_KEYS must name at least one tag key');
  return keys;
}

const reloadCommand = new RegExp(installOptionPatterns.reloadCommand);

function allowedReloadCommands(env: Env): string[] {
  const parsed = jsonList(env, 'ALLOWED_RELOAD_COMMANDS', '["/usr/sbin/nginx -s reload"]');
  if (!parsed.every((c) => typeof c === 'string')) {
    throw new ConfigError('ALLOWED_RELOAD_COMMANDS must be a JSON list of strings');
  }
  return parsed.map((command, i) => {
    const normal = normalReloadCommand(command);
    if (normal === '' || !reloadCommand.test(normal)) {
      throw new ConfigError(
        `ALLOWED_RELOAD_COMMANDS[${i}] must be an absolute path and arguments of letters, digits, spaces and . _ / : @ = , + -, got ${JSON.stringify(command)}`,
      );
    }
    return normal;
  });
}

/** SSM_MAX_CONCURRENCY or SSM_MAX_ERRORS: a number of servers or a percentage, as SSM takes it. */
function rateControl(
  env: Env,
  name: 'SSM_MAX_CONCURRENCY' | 'SSM_MAX_ERRORS',
  fallback: string,
): string {
  const value = str(env, name, fallback);
  const ok = name === 'SSM_MAX_ERRORS' ? isMaxErrors(value) : isMaxConcurrency(value);
  if (!ok) {
    const least = name === 'SSM_MAX_ERRORS' ? '0' : '1';
    throw new ConfigError(
      `${name} must be a number of servers (${least} or more, e.g. 50) or a percentage of the servers from 1% to 100% (e.g. 10%), got "${value}"`,
    );
  }
  return value;
}

const snsTopicArn = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** NOTIFY_TOPIC_ARN: a standard SNS topic (a FIFO topic delivers to no e-mail address). */
function notifyTopicArn(env: Env): string | undefined {
  const value = optional(env, 'NOTIFY_TOPIC_ARN');
  if (value === undefined) return undefined;
  if (value.endsWith('.fifo')) {
    throw new ConfigError(
      `NOTIFY_TOPIC_ARN must be a standard SNS topic, not a FIFO one (no e-mail delivery), got "${value}"`,
    );
  }
  if (!snsTopicArn.test(value)) {
    throw new ConfigError(
      `NOTIFY_TOPIC_ARN must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got "${value}"`,
    );
  }
  return value;
}

/** ACM_EXPORT_QUOTA_PER_SECOND and ACM_EXPORT_QUOTA_HEARTBEAT_SECONDS. */
function exportQuota(env: Env): Config['acm'] {
  if (optional(env, 'ACM_EXPORT_RATE_PER_SECOND') !== undefined) {
    throw new ConfigError(
      "ACM_EXPORT_RATE_PER_SECOND is gone: the tasks now share one quota, ACM_EXPORT_QUOTA_PER_SECOND (the account's ExportCertificate quota, default 5)",
    );
  }
  return {
    exportQuotaPerSecond: int(env, 'ACM_EXPORT_QUOTA_PER_SECOND', 5, 1, 1000),
    exportQuotaHeartbeatSeconds: int(env, 'ACM_EXPORT_QUOTA_HEARTBEAT_SECONDS', 5, 1, 60),
  };
}

/** Reads and validates the whole configuration; throws one clear error naming the variable. */
export function loadConfig(env: Env): Config {
  const aws = readAwsConfig(env);
  const workerEnabled = bool(env, 'WORKER_ENABLED', true);
  const apiEnabled = bool(env, 'API_ENABLED', true);
  const authMode = oneOf(env, 'AUTH_MODE', ['sts', 'lambda', 'none'] as const, 'sts');
  const pollInitialSeconds = int(env, 'POLL_INITIAL_SECONDS', 1, 0, 900);
  const pollMaxSeconds = int(env, 'POLL_MAX_SECONDS', 30, 1, 900);
  if (pollMaxSeconds < pollInitialSeconds) {
    throw new ConfigError('POLL_MAX_SECONDS must be at least POLL_INITIAL_SECONDS');
  }
  const documentVersion = optional(env, 'SSM_DOCUMENT_VERSION');
  const kmsKeyId = optional(env, 'SECRETS_KMS_KEY_ID');
  const publicBaseUrl = optional(env, 'PUBLIC_BASE_URL');
  const agentUri = optional(env, 'ECS_AGENT_URI');
  const topicArn = notifyTopicArn(env);
  const defaultSts = aws.endpoints.sts ?? `https://sts.${aws.region}.amazonaws.com`;
  return {
    aws,
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    api: {
      enabled: apiEnabled,
      host: str(env, 'HOST', '0.0.0.0'),
      port: int(env, 'PORT', 8080, 0, 65535),
      bodyLimit: int(env, 'API_BODY_LIMIT_BYTES', 16 * 1024, 1024, 1024 * 1024),
      ...(publicBaseUrl === undefined ? {} : { publicBaseUrl: url(env, 'PUBLIC_BASE_URL') }),
    },
    auth: {
      mode: authMode,
      audience: str(env, 'AUTH_AUDIENCE', 'acm-cert-export'),
      stsEndpoint: url(env, 'AUTH_STS_ENDPOINT', defaultSts),
      maxTokenAgeSeconds: int(env, 'AUTH_MAX_TOKEN_AGE_SECONDS', 300, 30, 900),
      principals: principals(env),
    },
    worker: {
      enabled: workerEnabled,
      queueUrl: url(env, 'QUEUE_URL'),
      deadLetterQueueUrl: url(env, 'DLQ_URL'),
      concurrency: int(env, 'WORKER_CONCURRENCY', 10, 1, 100),
      visibilityTimeoutSeconds: int(env, 'WORKER_VISIBILITY_TIMEOUT_SECONDS', 60, 10, 43_200),
      pollInitialSeconds,
      pollMaxSeconds,
      maxFailures: int(env, 'WORKER_MAX_FAILURES', 5, 1, 100),
      commandLookSeconds: int(env, 'COMMAND_LOOK_SECONDS', 5, 1, 300),
      cancelCheckSeconds: int(env, 'CANCEL_CHECK_SECONDS', 15, 1, 300),
      receiveWaitSeconds: int(env, 'WORKER_RECEIVE_WAIT_SECONDS', 20, 0, 20),
      lockRetrySeconds: int(env, 'LOCK_RETRY_SECONDS', 5, 1, 900),
      jobTimeoutSeconds: int(env, 'JOB_TIMEOUT_SECONDS', 3600, 10, 43_200),
      instanceSettleSeconds: int(env, 'INSTANCE_SETTLE_SECONDS', 60, 0, 900),
      agentWaitSeconds: int(env, 'AGENT_WAIT_SECONDS', 900, 0, 43_200),
      shutdownGraceSeconds: int(env, 'SHUTDOWN_GRACE_SECONDS', 25, 1, 120),
    },
    tables: {
      mappings: str(env, 'MAPPING_TABLE', 'CertTagMapping'),
      deployments: str(env, 'DEPLOYMENTS_TABLE', 'CertDeployments'),
      servers: str(env, 'SERVERS_TABLE', 'CertDeploymentServers'),
    },
    secrets: {
      prefix: str(env, 'SECRET_PREFIX', 'acm-passphrase/'),
      ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
      deletionRecoveryDays: int(env, 'SECRET_RECOVERY_DAYS', 7, 7, 30),
    },
    ssm: {
      documentName: str(env, 'SSM_DOCUMENT_NAME', 'Install-ACMCertificate'),
      ...(documentVersion === undefined ? {} : { documentVersion }),
      maxConcurrency: rateControl(env, 'SSM_MAX_CONCURRENCY', defaultMaxConcurrency),
      maxErrors: rateControl(env, 'SSM_MAX_ERRORS', defaultMaxErrors),
      timeoutSeconds: int(env, 'SSM_TIMEOUT_SECONDS', 600, 30, 2_592_000),
    },
    acm: exportQuota(env),
    scaleInProtection: {
      ...(agentUri === undefined ? {} : { agentUri: url(env, 'ECS_AGENT_URI') }),
      minutes: int(env, 'TASK_PROTECTION_MINUTES', 10, 1, 2880),
      releaseAfterIdleSeconds: int(env, 'TASK_PROTECTION_RELEASE_AFTER_IDLE_SECONDS', 15, 0, 600),
    },
    notifications: {
      ...(topicArn === undefined ? {} : { topicArn }),
      expiryDays: int(env, 'EXPIRY_NOTIFY_DAYS', 14, 1, 365),
      renewalGraceHours: int(env, 'RENEWAL_GRACE_HOURS', 24, 1, 720),
    },
    allowedCertificateArns: (optional(env, 'ALLOWED_CERTIFICATE_ARNS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    policy: {
      targetTagKeys: targetTagKeys(env),
      allowedReloadCommands: allowedReloadCommands(env),
      certificateRegions: certificateRegions(env, aws.region),
    },
  };
}

export { ConfigError };

/** The one place that reads the process environment. */
export function loadConfigFromProcess(): Config {
  return loadConfig(process.env);
}
