import { type AwsConfig, readAwsConfig } from './aws-config.ts';
import { ConfigError, oneOf } from './read-env.ts';
import { type logLevels, settings } from './settings.ts';

/** The waker function's settings, read and checked once when its execution environment starts. */
export interface WakerConfig {
  readonly aws: AwsConfig;
  readonly logLevel: (typeof logLevels)[number];
  readonly queueUrl: string;
  readonly cluster: string;
  readonly service: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** An ECS cluster or service name (letters, digits, hyphens, underscores, up to 255) or its ARN. */
const ecsName =
  /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:(cluster|service)\/[A-Za-z0-9_/-]{1,511}|[A-Za-z0-9_-]{1,255})$/;

function required(env: Env, { name }: { readonly name: string }, example: string): string {
  const value = env[name]?.trim();
  if (value === undefined || value === '') {
    throw new ConfigError(`${name} is required (for example ${example})`);
  }
  return value;
}

function ecsIdentifier(
  env: Env,
  setting: typeof settings.WORKER_CLUSTER | typeof settings.WORKER_SERVICE,
  example: string,
): string {
  const { name } = setting;
  const value = required(env, setting, example);
  if (!ecsName.test(value)) {
    throw new ConfigError(`${name} must be an ECS name or ARN, got "${value}"`);
  }
  return value;
}

export function loadWakerConfig(env: Env): WakerConfig {
  const queueUrl = required(
    env,
    settings.QUEUE_URL,
    'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
  );
  try {
    const parsed = new URL(queueUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(`${settings.QUEUE_URL.name} must be an http(s) URL, got "${queueUrl}"`);
  }
  return {
    aws: readAwsConfig(env),
    logLevel: oneOf(env, settings.LOG_LEVEL),
    queueUrl,
    cluster: ecsIdentifier(env, settings.WORKER_CLUSTER, 'acm-cert-export-cluster'),
    service: ecsIdentifier(env, settings.WORKER_SERVICE, 'acm-cert-export-service'),
  };
}

export function loadWakerConfigFromProcess(): WakerConfig {
  return loadWakerConfig(process.env);
}
