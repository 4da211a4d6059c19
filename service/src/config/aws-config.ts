import { settings } from './settings.ts';

/** AWS connection settings shared by every client the project builds. */
export interface AwsConfig {
  readonly region: string;
  /**
   * Endpoint per service. Follows the SDK's standard semantics: `AWS_ENDPOINT_URL_<SERVICE>`
   * wins over `AWS_ENDPOINT_URL`; both absent means the real AWS endpoint.
   */
  readonly endpoints: Readonly<Record<AwsService, string | undefined>>;
  /** Attempts per call including the first, with the SDK's adaptive retry mode. */
  readonly maxAttempts: number;
  /**
   * The SDK's retry mode for every client (`AWS_RETRY_MODE`). Unset: adaptive for ACM (a fixed
   * per-account rate quota, where client-side rate adaptation pays), standard (exponential
   * backoff with jitter, per call) for the rest, where adaptive mode's shared client-side rate
   * limiter slows every job down after a few throttled calls.
   */
  readonly retryMode: 'adaptive' | 'standard' | undefined;
}

/** Service ids as they appear in `AWS_ENDPOINT_URL_<ID>`. */
export const awsServices = {
  acm: 'ACM',
  secretsManager: 'SECRETS_MANAGER',
  dynamodb: 'DYNAMODB',
  ssm: 'SSM',
  sqs: 'SQS',
  sns: 'SNS',
  ec2: 'EC2',
  sts: 'STS',
  iam: 'IAM',
  eventbridge: 'EVENTBRIDGE',
  ecs: 'ECS',
} as const;

export type AwsService = keyof typeof awsServices;

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function checkUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} must be an absolute http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${name} must use http or https, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

/** Reads the AWS settings from an environment map; throws with the variable name on bad input. */
export function readAwsConfig(env: Env): AwsConfig {
  const region =
    nonEmpty(env[settings.AWS_REGION.name]) ?? nonEmpty(env[settings.AWS_DEFAULT_REGION.name]);
  if (region === undefined) {
    throw new Error('AWS_REGION is required (for example us-east-1)');
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new Error(`AWS_REGION must look like us-east-1, got "${region}"`);
  }
  const ignoreSetting = settings.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  const ignore =
    (nonEmpty(env[ignoreSetting.name])?.toLowerCase() ?? String(ignoreSetting.default)) === 'true';
  const global = nonEmpty(env[settings.AWS_ENDPOINT_URL.name]);
  const endpoints = {} as Record<AwsService, string | undefined>;
  for (const [service, id] of Object.entries(awsServices) as [AwsService, string][]) {
    const name = `${settings.AWS_ENDPOINT_URL.name}_${id}`; // settings.AWS_ENDPOINT_URL_SERVICE
    const specific = nonEmpty(env[name]);
    if (ignore) endpoints[service] = undefined;
    else if (specific !== undefined) endpoints[service] = checkUrl(name, specific);
    else if (global !== undefined)
      endpoints[service] = checkUrl(settings.AWS_ENDPOINT_URL.name, global);
    else endpoints[service] = undefined;
  }
  const attempts = settings.AWS_MAX_ATTEMPTS;
  const attemptsRaw = nonEmpty(env[attempts.name]) ?? String(attempts.default);
  const maxAttempts = Number(attemptsRaw);
  if (!Number.isInteger(maxAttempts) || maxAttempts < attempts.min || maxAttempts > attempts.max) {
    throw new Error(
      `${attempts.name} must be an integer from ${attempts.min} to ${attempts.max}, got "${attemptsRaw}"`,
    );
  }
  const retry = settings.AWS_RETRY_MODE;
  const retryMode = nonEmpty(env[retry.name]) as AwsConfig['retryMode'];
  if (retryMode !== undefined && !retry.values.includes(retryMode)) {
    throw new Error(`${retry.name} must be ${retry.values.join(' or ')}, got "${retryMode}"`);
  }
  return { region, endpoints, maxAttempts, retryMode };
}
