import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsConfig, AwsService } from '../config/aws-config.ts';
import type { JobClients } from './job-clients.ts';

export type { JobClients } from './job-clients.ts';

/**
 * The service's SDK app id (`app/<id>` in every request's User-Agent, so in CloudTrail's
 * userAgent): which part of the service made a call. The test bed's IAM evaluation reads it to
 * know whose role a request runs under.
 */
export type ServiceAppId =
  | 'acm-cert-export'
  | 'acm-cert-export-api'
  | 'acm-cert-export-worker'
  /** The scale-to-zero deployment's waker function (service/src/waker/). */
  | 'acm-cert-export-waker';

/** The app id of a process running the API, the worker, or both (one task role). */
export function serviceAppId(parts: { api: boolean; worker: boolean }): ServiceAppId {
  if (parts.api && !parts.worker) return 'acm-cert-export-api';
  if (parts.worker && !parts.api) return 'acm-cert-export-worker';
  return 'acm-cert-export';
}

/** The options every SDK client of the project is built with, for one service. */
export function clientOptions(config: AwsConfig, service: AwsService, appId?: ServiceAppId) {
  const endpoint = config.endpoints[service];
  return {
    region: config.region,
    maxAttempts: config.maxAttempts,
    retryMode: config.retryMode ?? (service === 'acm' ? 'adaptive' : 'standard'),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(appId === undefined ? {} : { userAgentAppId: appId }),
  } as const;
}

/**
 * Middleware for every client the service builds, as an SDK plugin (its `applyToStack` adds
 * middleware to the client's stack): the real-account benchmark counts each client's requests
 * with one (bench/request-counter.ts). Production passes none.
 */
export interface ClientPlugin {
  applyToStack(stack: unknown): void;
}

/** Adds the plugins to a client's middleware stack; returns the client. */
export function withPlugins<C extends { middlewareStack: { use(plugin: ClientPlugin): void } }>(
  client: C,
  plugins: readonly ClientPlugin[],
): C {
  for (const plugin of plugins) client.middlewareStack.use(plugin);
  return client;
}

/**
 * Every AWS client the service uses, built once by the composition root. DynamoDB and SQS (the
 * readiness check, the queue, the tables) are built at once; the clients a job needs besides
 * (ACM, Secrets Manager, SSM, EC2, SNS) are loaded with their SDK packages on first use: those
 * packages hold about half of what the process would otherwise load and keep at start
 * (docs/benchmarks.md, Process).
 */
export interface AwsClients {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** The other clients: the first call imports their packages and builds them, later calls reuse them. */
  jobClients(): Promise<JobClients>;
  destroy(): void;
}

export function createAwsClients(
  config: AwsConfig,
  appId?: ServiceAppId,
  plugins: readonly ClientPlugin[] = [],
): AwsClients {
  const options = (service: AwsService) => clientOptions(config, service, appId);
  const raw = withPlugins(new DynamoDBClient(options('dynamodb')), plugins);
  const dynamodb = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const sqs = withPlugins(new SQSClient(options('sqs')), plugins);
  let job: Promise<JobClients> | undefined;
  let loaded: JobClients | undefined;
  let destroyed = false;
  return {
    dynamodb,
    sqs,
    jobClients() {
      job ??= import('./job-clients.ts').then(({ createJobClients }) => {
        loaded = createJobClients(config, appId, plugins);
        if (destroyed) loaded.destroy();
        return loaded;
      });
      return job;
    },
    destroy() {
      destroyed = true;
      sqs.destroy();
      raw.destroy();
      loaded?.destroy();
    },
  };
}
