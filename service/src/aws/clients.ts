import { ACMClient } from '@aws-sdk/client-acm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsConfig, AwsService } from '../config/aws-config.ts';

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

/** Every AWS client the service uses, built once by the composition root. */
export interface AwsClients {
  readonly acm: ACMClient;
  readonly secretsManager: SecretsManagerClient;
  readonly dynamodb: DynamoDBDocumentClient;
  readonly ssm: SSMClient;
  readonly sqs: SQSClient;
  /** The notifications' topic (the worker's expiry check). */
  readonly sns: SNSClient;
  readonly ec2: EC2Client;
  /**
   * ACM in a region (a certificate is described and exported in its own): `acm` for the
   * service's region, another client per other region, built on first use and kept.
   */
  acmIn(region: string): ACMClient;
  destroy(): void;
}

export function createAwsClients(
  config: AwsConfig,
  appId?: ServiceAppId,
  plugins: readonly ClientPlugin[] = [],
): AwsClients {
  const options = (service: AwsService) => clientOptions(config, service, appId);
  const withPlugins = <C extends { middlewareStack: { use(plugin: ClientPlugin): void } }>(
    client: C,
  ): C => {
    for (const plugin of plugins) client.middlewareStack.use(plugin);
    return client;
  };
  const raw = withPlugins(new DynamoDBClient(options('dynamodb')));
  const dynamodb = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const clients = {
    acm: withPlugins(new ACMClient(options('acm'))),
    secretsManager: withPlugins(new SecretsManagerClient(options('secretsManager'))),
    dynamodb,
    ssm: withPlugins(new SSMClient(options('ssm'))),
    sqs: withPlugins(new SQSClient(options('sqs'))),
    sns: withPlugins(new SNSClient(options('sns'))),
    ec2: withPlugins(new EC2Client(options('ec2'))),
  };
  const acmElsewhere = new Map<string, ACMClient>();
  return {
    ...clients,
    acmIn(region) {
      if (region === config.region) return clients.acm;
      let client = acmElsewhere.get(region);
      if (client === undefined) {
        client = withPlugins(new ACMClient({ ...options('acm'), region }));
        acmElsewhere.set(region, client);
      }
      return client;
    },
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
      for (const client of acmElsewhere.values()) client.destroy();
      raw.destroy();
    },
  };
}
