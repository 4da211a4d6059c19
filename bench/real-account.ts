/**
 * `npm run bench -- --real-account`: the throughput, requests and cost measurement against
 * whatever the standard AWS credential chain and endpoints give (no emulator, no stand-in, no
 * proxy). The worker runs in this process with the service's production code, its clients built
 * by the composition root with the request counter's middleware (request-counter.ts): that is
 * what counts the requests. The bench's own calls (sending the jobs, reading the records and the
 * items back) are counted apart. docs/benchmarks.md says what it needs, creates and costs.
 * Refuses to run without `--real-account` and without its settings.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientOptions } from '../service/src/aws/clients.ts';
import { readAwsConfig } from '../service/src/config/aws-config.ts';
import { costFigures, runCost } from './deployment-cost.ts';
import { emit } from './figures.ts';
import { type ProfileFixedCost, profileFixedCosts } from './fixed-costs.ts';
import { createRequestCounter, type RequestCounter } from './request-counter.ts';
import {
  type DeploymentRun,
  requestsFigure,
  runDeployments,
  startBenchWorker,
  throughputFigure,
} from './worker-bench.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** What the real-account run needs, each from its flag or its environment variable. */
export const realAccountSettings = [
  { env: 'AWS_REGION', flag: '--region', what: 'the region of the stack (e.g. us-east-1)' },
  { env: 'MAPPING_TABLE', flag: '--mapping-table', what: "the stack's mapping table" },
  { env: 'DEPLOYMENTS_TABLE', flag: '--deployments-table', what: "the stack's deployments table" },
  { env: 'SERVERS_TABLE', flag: '--servers-table', what: "the stack's per-server table" },
  { env: 'QUEUE_URL', flag: '--queue-url', what: "the stack's job queue URL" },
  { env: 'DLQ_URL', flag: '--dlq-url', what: "the stack's dead-letter queue URL" },
  {
    env: 'BENCH_CERTIFICATE_ARN',
    flag: '--certificate-arn',
    what: 'an exportable ACM certificate (private CA, or public with the export option)',
  },
  {
    env: 'BENCH_TARGET',
    flag: '--target',
    what: 'the target tag, key=value: the servers every deployment goes to',
  },
] as const;

export class RefusedError extends Error {}

function flagValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  const v = i >= 0 ? argv[i + 1] : undefined;
  return v === undefined || v.startsWith('--') ? undefined : v;
}

/** The run's settings, or a refusal listing every one that is missing. */
export function realAccountEnvironment(argv: readonly string[], env: Env): Record<string, string> {
  if (!argv.includes('--real-account')) {
    throw new RefusedError(
      'refusing: this measures against a real AWS account and creates resources there; run it only as `npm run bench -- --real-account …` (docs/benchmarks.md)',
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  const missing: string[] = [];
  for (const s of realAccountSettings) {
    const value =
      flagValue(argv, s.flag) ??
      env[s.env] ??
      (s.env === 'AWS_REGION' ? env.AWS_DEFAULT_REGION : undefined);
    if (value === undefined || value.trim() === '')
      missing.push(`  ${s.flag} <…> or ${s.env}=…: ${s.what}`);
    else out[s.env] = value.trim();
  }
  if (missing.length > 0) {
    throw new RefusedError(
      `refusing: the real-account run needs these settings, missing:\n${missing.join('\n')}\n(see docs/benchmarks.md, "Against a real account")`,
    );
  }
  if (!/^[^=]+=.+$/.test(out.BENCH_TARGET ?? '')) {
    throw new RefusedError(`refusing: BENCH_TARGET must be key=value, got "${out.BENCH_TARGET}"`);
  }
  const [key] = (out.BENCH_TARGET ?? '').split('=');
  // The service refuses targets outside the stack's tag keys: the stack's is the target's key.
  out.TARGET_TAG_KEYS ??= key ?? '';
  // The worker only: the API is not measured here.
  out.API_ENABLED = 'false';
  out.WORKER_ENABLED = 'true';
  out.LOG_LEVEL ??= 'silent';
  return out;
}

export interface RealAccountResult {
  readonly first: DeploymentRun;
  readonly repeat: DeploymentRun;
  /** The service's requests (the worker's clients). */
  readonly service: RequestCounter;
  /** The bench's own requests: sending the jobs, reading records and items back. */
  readonly bench: RequestCounter;
  /** The run's duration, so that a caller can compare: see RequestCounter.lifetime. */
  readonly deployments: number;
}

export interface RealAccountOptions {
  readonly deployments: number;
  /** Names each run's mappings `<prefix>-NNNN` (default `bench-<time>`). */
  readonly prefix?: string;
  /** The profiles' fixed costs (default: npm run cost's, in a priced region). */
  readonly profiles?: readonly ProfileFixedCost[];
}

/**
 * Deploys `deployments` new mappings of the certificate to the target (first deployments), then
 * the same mappings again (repeats), with the worker of this process, and prints the figures.
 */
export async function runRealAccount(
  argv: readonly string[],
  env: Env,
  options: RealAccountOptions,
): Promise<RealAccountResult> {
  const settings = realAccountEnvironment(argv, env);
  const aws = readAwsConfig(settings);
  const bench = createRequestCounter('benchOwnRequests');
  const raw = new DynamoDBClient(clientOptions(aws, 'dynamodb'));
  raw.middlewareStack.use(bench.plugin);
  const sqs = new SQSClient(clientOptions(aws, 'sqs'));
  sqs.middlewareStack.use(bench.plugin);
  const bed = {
    sqs,
    dynamodb: DynamoDBDocumentClient.from(raw),
    queueUrl: settings.QUEUE_URL ?? '',
    deploymentsTable: settings.DEPLOYMENTS_TABLE ?? '',
    certificateArn: settings.BENCH_CERTIFICATE_ARN ?? '',
  };
  const [key = '', ...rest] = (settings.BENCH_TARGET ?? '').split('=');
  const target = { key, value: rest.join('=') };
  const prefix = options.prefix ?? `bench-${Date.now().toString(36)}`;
  const certNames = Array.from(
    { length: options.deployments },
    (_, i) => `${prefix}-${String(i).padStart(4, '0')}`,
  );
  const service = createRequestCounter();
  const worker = startBenchWorker(settings, service);
  try {
    console.error(
      `real account (${aws.region}): ${options.deployments} first deployments of ${certNames[0]}… to ${key}=${target.value}, worker with ${worker.concurrency} consumers…`,
    );
    const first = await runDeployments(bed, service, {
      certNames,
      target,
      jobPrefix: `${prefix}-first`,
    });
    emit(
      throughputFigure(first, 5),
      requestsFigure('requests_first_deployment', first, { counted_by: 'SDK middleware' }),
    );
    console.error('real account: the same mappings deployed again…');
    const repeat = await runDeployments(bed, service, {
      certNames,
      target,
      jobPrefix: `${prefix}-repeat`,
    });
    emit(requestsFigure('requests_repeat_deployment', repeat, { counted_by: 'SDK middleware' }));
    const firstCost = await runCost(raw, first);
    const repeatCost = await runCost(raw, repeat);
    const figures = costFigures({
      first: firstCost,
      repeat: repeatCost,
      commandSeconds: repeat.commandSecondsP50,
      deploymentsPerSecond: first.deployments / first.seconds,
      profiles:
        options.profiles ??
        profileFixedCosts(aws.region === 'eu-west-1' ? 'eu-west-1' : 'us-east-1'),
    });
    emit(figures.costFigure, figures.breakEven);
    console.error(
      `real account: done. Left behind: ${options.deployments} mappings ${prefix}-NNNN on ${key}=${target.value}, their passphrase secrets, ${2 * options.deployments} deployment records (docs/benchmarks.md: cleaning up).`,
    );
    return { first, repeat, service, bench, deployments: options.deployments };
  } finally {
    await worker.stop();
    raw.destroy();
    sqs.destroy();
  }
}
