import { installOptionPatterns, normalReloadCommand } from '../domain/install-options.ts';
import { isReservedTagKey, tagKeyPattern } from '../domain/names.ts';
import { isMaxConcurrency, isMaxErrors } from '../domain/rate-control.ts';
import { type AwsConfig, readAwsConfig } from './aws-config.ts';
import {
  bool,
  ConfigError,
  type Env,
  int,
  jsonList,
  list,
  oneOf,
  optional,
  text,
  url,
} from './read-env.ts';
import { settings } from './settings.ts';

/**
 * Everything the service reads from its environment, read and validated once at start by
 * `loadConfig` (the composition root passes it down; nothing else reads process.env).
 */
export interface Config {
  readonly aws: AwsConfig;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `auto`: readable lines on a terminal, JSON otherwise (files, pipes, CloudWatch). */
  readonly logFormat: 'auto' | 'json' | 'pretty';
  readonly api: {
    readonly enabled: boolean;
    readonly host: string;
    readonly port: number;
    /** Maximum request body in bytes. */
    readonly bodyLimit: number;
    /** How long a route's handler may take before it is answered 503 (api/request-deadline.ts). */
    readonly deadlineSeconds: number;
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
  /** Prometheus /metrics and CloudWatch EMF (service/src/metrics/). */
  readonly metrics: {
    /** The /metrics listener, on a port of its own (never the API's, never behind the ALB). */
    readonly enabled: boolean;
    readonly host: string;
    readonly port: number;
    /** The bound on per-mapping series. */
    readonly maxMappings: number;
    readonly emf: boolean;
    readonly emfFlushSeconds: number;
    readonly namespace: string;
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

function principals(env: Env): PrincipalRule[] {
  const parsed = jsonList(env, settings.AUTH_PRINCIPALS);
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
  const regions = list(env, settings.CERTIFICATE_REGIONS, home);
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
  const keys = list(env, settings.TARGET_TAG_KEYS);
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
  const parsed = jsonList(env, settings.ALLOWED_RELOAD_COMMANDS);
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
  setting: typeof settings.SSM_MAX_CONCURRENCY | typeof settings.SSM_MAX_ERRORS,
): string {
  const { name } = setting;
  const value = text(env, setting);
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
  const value = optional(env, settings.NOTIFY_TOPIC_ARN);
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
  if (optional(env, settings.ACM_EXPORT_RATE_PER_SECOND) !== undefined) {
    throw new ConfigError(
      "ACM_EXPORT_RATE_PER_SECOND is gone: the tasks now share one quota, ACM_EXPORT_QUOTA_PER_SECOND (the account's ExportCertificate quota, default 5)",
    );
  }
  return {
    exportQuotaPerSecond: int(env, settings.ACM_EXPORT_QUOTA_PER_SECOND),
    exportQuotaHeartbeatSeconds: int(env, settings.ACM_EXPORT_QUOTA_HEARTBEAT_SECONDS),
  };
}

/** Reads and validates the whole configuration; throws one clear error naming the variable. */
export function loadConfig(env: Env): Config {
  const aws = readAwsConfig(env);
  const workerEnabled = bool(env, settings.WORKER_ENABLED);
  const apiEnabled = bool(env, settings.API_ENABLED);
  const authMode = oneOf(env, settings.AUTH_MODE);
  const pollInitialSeconds = int(env, settings.POLL_INITIAL_SECONDS);
  const pollMaxSeconds = int(env, settings.POLL_MAX_SECONDS);
  if (pollMaxSeconds < pollInitialSeconds) {
    throw new ConfigError('POLL_MAX_SECONDS must be at least POLL_INITIAL_SECONDS');
  }
  const documentVersion = optional(env, settings.SSM_DOCUMENT_VERSION);
  const kmsKeyId = optional(env, settings.SECRETS_KMS_KEY_ID);
  const publicBaseUrl = optional(env, settings.PUBLIC_BASE_URL);
  const agentUri = optional(env, settings.ECS_AGENT_URI);
  const topicArn = notifyTopicArn(env);
  const defaultSts = aws.endpoints.sts ?? `https://sts.${aws.region}.amazonaws.com`;
  return {
    aws,
    logLevel: oneOf(env, settings.LOG_LEVEL),
    logFormat: oneOf(env, settings.LOG_FORMAT),
    api: {
      enabled: apiEnabled,
      host: text(env, settings.HOST),
      port: int(env, settings.PORT),
      bodyLimit: int(env, settings.API_BODY_LIMIT_BYTES),
      deadlineSeconds: int(env, settings.API_DEADLINE_SECONDS),
      ...(publicBaseUrl === undefined ? {} : { publicBaseUrl: url(env, settings.PUBLIC_BASE_URL) }),
    },
    auth: {
      mode: authMode,
      audience: text(env, settings.AUTH_AUDIENCE),
      stsEndpoint: url(env, settings.AUTH_STS_ENDPOINT, defaultSts),
      maxTokenAgeSeconds: int(env, settings.AUTH_MAX_TOKEN_AGE_SECONDS),
      principals: principals(env),
    },
    worker: {
      enabled: workerEnabled,
      queueUrl: url(env, settings.QUEUE_URL),
      deadLetterQueueUrl: url(env, settings.DLQ_URL),
      concurrency: int(env, settings.WORKER_CONCURRENCY),
      visibilityTimeoutSeconds: int(env, settings.WORKER_VISIBILITY_TIMEOUT_SECONDS),
      pollInitialSeconds,
      pollMaxSeconds,
      maxFailures: int(env, settings.WORKER_MAX_FAILURES),
      commandLookSeconds: int(env, settings.COMMAND_LOOK_SECONDS),
      cancelCheckSeconds: int(env, settings.CANCEL_CHECK_SECONDS),
      receiveWaitSeconds: int(env, settings.WORKER_RECEIVE_WAIT_SECONDS),
      lockRetrySeconds: int(env, settings.LOCK_RETRY_SECONDS),
      jobTimeoutSeconds: int(env, settings.JOB_TIMEOUT_SECONDS),
      instanceSettleSeconds: int(env, settings.INSTANCE_SETTLE_SECONDS),
      agentWaitSeconds: int(env, settings.AGENT_WAIT_SECONDS),
      shutdownGraceSeconds: int(env, settings.SHUTDOWN_GRACE_SECONDS),
    },
    tables: {
      mappings: text(env, settings.MAPPING_TABLE),
      deployments: text(env, settings.DEPLOYMENTS_TABLE),
      servers: text(env, settings.SERVERS_TABLE),
    },
    secrets: {
      prefix: text(env, settings.SECRET_PREFIX),
      ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
      deletionRecoveryDays: int(env, settings.SECRET_RECOVERY_DAYS),
    },
    ssm: {
      documentName: text(env, settings.SSM_DOCUMENT_NAME),
      ...(documentVersion === undefined ? {} : { documentVersion }),
      maxConcurrency: rateControl(env, settings.SSM_MAX_CONCURRENCY),
      maxErrors: rateControl(env, settings.SSM_MAX_ERRORS),
      timeoutSeconds: int(env, settings.SSM_TIMEOUT_SECONDS),
    },
    acm: exportQuota(env),
    scaleInProtection: {
      ...(agentUri === undefined ? {} : { agentUri: url(env, settings.ECS_AGENT_URI) }),
      minutes: int(env, settings.TASK_PROTECTION_MINUTES),
      releaseAfterIdleSeconds: int(env, settings.TASK_PROTECTION_RELEASE_AFTER_IDLE_SECONDS),
    },
    notifications: {
      ...(topicArn === undefined ? {} : { topicArn }),
      expiryDays: int(env, settings.EXPIRY_NOTIFY_DAYS),
      renewalGraceHours: int(env, settings.RENEWAL_GRACE_HOURS),
    },
    metrics: {
      enabled: bool(env, settings.METRICS_ENABLED),
      host: text(env, settings.METRICS_HOST, text(env, settings.HOST)),
      port: int(env, settings.METRICS_PORT),
      maxMappings: int(env, settings.METRICS_MAX_MAPPINGS),
      emf: bool(env, settings.METRICS_EMF),
      emfFlushSeconds: int(env, settings.METRICS_EMF_FLUSH_SECONDS),
      namespace: text(env, settings.METRICS_NAMESPACE),
    },
    allowedCertificateArns: list(env, settings.ALLOWED_CERTIFICATE_ARNS),
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
