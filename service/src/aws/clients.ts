import { ACMClient } from '@aws-sdk/client-acm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsConfig, AwsService } from '../config/aws-config.ts';

/** The options every SDK client of the project is built with, for one service. */
export function clientOptions(config: AwsConfig, service: AwsService) {
  const endpoint = config.endpoints[service];
  return {
    region: config.region,
    maxAttempts: config.maxAttempts,
    retryMode: config.retryMode ?? (service === 'acm' ? 'adaptive' : 'standard'),
    ...(endpoint === undefined ? {} : { endpoint }),
  } as const;
}

/** Every AWS client the service uses, built once by the composition root. */
export interface AwsClients {
  readonly acm: ACMClient;
  readonly secretsManager: SecretsManagerClient;
  readonly dynamodb: DynamoDBDocumentClient;
  readonly ssm: SSMClient;
  readonly sqs: SQSClient;
  readonly ec2: EC2Client;
  destroy(): void;
}

export function createAwsClients(config: AwsConfig): AwsClients {
  const raw = new DynamoDBClient(clientOptions(config, 'dynamodb'));
  const dynamodb = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const clients = {
    acm: new ACMClient(clientOptions(config, 'acm')),
    secretsManager: new SecretsManagerClient(clientOptions(config, 'secretsManager')),
    dynamodb,
    ssm: new SSMClient(clientOptions(config, 'ssm')),
    sqs: new SQSClient(clientOptions(config, 'sqs')),
    ec2: new EC2Client(clientOptions(config, 'ec2')),
  };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
      raw.destroy();
    },
  };
}
