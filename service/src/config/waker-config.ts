import { type AwsConfig, readAwsConfig } from './aws-config.ts';
import { ConfigError } from './config.ts';

/** The waker function's settings, read and checked once when its execution environment starts. */
export interface WakerConfig {
  readonly aws: AwsConfig;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  readonly queueUrl: string;
  readonly cluster: string;
  readonly service: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const logLevels = ['error', 'warn', 'info', 'debug'] as const;
/** An ECS cluster or service name (letters, digits, hyphens, underscores, up to 255) or its ARN. */
const ecsName =
  /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:(cluster|service)\/[A-Za-z0-9_/-]{1,511}|[A-Za-z0-9_-]{1,255})$/;

function required(env: Env, name: string, example: string): string {
  const value = env[name]?.trim();
  if (value === undefined || value === '') {
    throw new ConfigError(`${name} is required (for example ${example})`);
  }
  return value;
}

function ecsIdentifier(env: Env, name: string, example: string): string {
  const value = required(env, name, example);
  if (!ecsName.test(value)) {
    throw new ConfigError(`${name} must be an ECS name or ARN, got "${value}"`);
  }
  return value;
}

export function loadWakerConfig(env: Env): WakerConfig {
  const queueUrl = required(
    env,
    'QUEUE_URL',
    'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
  );
  try {
    const parsed = new URL(queueUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(`QUEUE_URL must be an http(s) URL, got "${queueUrl}"`);
  }
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${logLevel}"`);
  }
  return {
    aws: readAwsConfig(env),
    logLevel: logLevel as WakerConfig['logLevel'],
    queueUrl,
    cluster: ecsIdentifier(env, 'WORKER_CLUSTER', 'acm-cert-export-cluster'),
    service: ecsIdentifier(env, 'WORKER_SERVICE', 'acm-cert-export-service'),
  };
}

export function loadWakerConfigFromProcess(): WakerConfig {
  return loadWakerConfig(process.env);
}
