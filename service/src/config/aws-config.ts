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
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region === undefined) {
    throw new Error('AWS_REGION is required (for example us-east-1)');
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new Error(`AWS_REGION must look like us-east-1, got "${region}"`);
  }
  const ignore = nonEmpty(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)?.toLowerCase() === 'true';
  const global = nonEmpty(env.AWS_ENDPOINT_URL);
  const endpoints = {} as Record<AwsService, string | undefined>;
  for (const [service, id] of Object.entries(awsServices) as [AwsService, string][]) {
    const name = `AWS_ENDPOINT_URL_${id}`;
    const specific = nonEmpty(env[name]);
    if (ignore) endpoints[service] = undefined;
    else if (specific !== undefined) endpoints[service] = checkUrl(name, specific);
    else if (global !== undefined) endpoints[service] = checkUrl('AWS_ENDPOINT_URL', global);
    else endpoints[service] = undefined;
  }
  const attemptsRaw = nonEmpty(env.AWS_MAX_ATTEMPTS) ?? '5';
  const maxAttempts = Number(attemptsRaw);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) {
    throw new Error(`AWS_MAX_ATTEMPTS must be an integer from 1 to 20, got "${attemptsRaw}"`);
  }
  const retryMode = nonEmpty(env.AWS_RETRY_MODE);
  if (retryMode !== undefined && retryMode !== 'adaptive' && retryMode !== 'standard') {
    throw new Error(`AWS_RETRY_MODE must be adaptive or standard, got "${retryMode}"`);
  }
  return { region, endpoints, maxAttempts, retryMode };
}
