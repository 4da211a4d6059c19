import { ACMClient } from '@aws-sdk/client-acm';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsConfig, AwsService } from '../config/aws-config.ts';
import { type ClientPlugin, clientOptions, type ServiceAppId, withPlugins } from './clients.ts';

/**
 * The clients a job needs besides DynamoDB and SQS. This module is imported on first use
 * (AwsClients.jobClients): their SDK packages are not loaded by a process that runs no job.
 */
export interface JobClients {
  readonly acm: ACMClient;
  readonly secretsManager: SecretsManagerClient;
  readonly ssm: SSMClient;
  /**
   * SSM with no retry by the SDK (maxAttempts 1), for SendCommand only: it has no idempotency
   * token, so a resend after a lost answer would run the install twice. The adapter decides each
   * resend itself, after looking for the command (adapters/ssm-command-runner.ts, send).
   */
  readonly ssmSendCommand: SSMClient;
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

export function createJobClients(
  config: AwsConfig,
  appId: ServiceAppId | undefined,
  plugins: readonly ClientPlugin[],
): JobClients {
  const options = (service: AwsService) => clientOptions(config, service, appId);
  const clients = {
    acm: withPlugins(new ACMClient(options('acm')), plugins),
    secretsManager: withPlugins(new SecretsManagerClient(options('secretsManager')), plugins),
    ssm: withPlugins(new SSMClient(options('ssm')), plugins),
    ssmSendCommand: withPlugins(new SSMClient({ ...options('ssm'), maxAttempts: 1 }), plugins),
    sns: withPlugins(new SNSClient(options('sns')), plugins),
    ec2: withPlugins(new EC2Client(options('ec2')), plugins),
  };
  const acmElsewhere = new Map<string, ACMClient>();
  return {
    ...clients,
    acmIn(region) {
      if (region === config.region) return clients.acm;
      let client = acmElsewhere.get(region);
      if (client === undefined) {
        client = withPlugins(new ACMClient({ ...options('acm'), region }), plugins);
        acmElsewhere.set(region, client);
      }
      return client;
    },
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
      for (const client of acmElsewhere.values()) client.destroy();
    },
  };
}
