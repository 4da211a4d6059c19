import { ACMClient } from '@aws-sdk/client-acm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientOptions } from '../../src/aws/clients.ts';
import { type AwsConfig, readAwsConfig } from '../../src/config/aws-config.ts';
import { motoEndpoint } from './bed-lane.ts';

/** AWS settings of the test run: the emulator started by the global setup. */
export function testAwsConfig(overrides: Record<string, string> = {}): AwsConfig {
  return readAwsConfig({
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_MAX_ATTEMPTS: '3',
    ...overrides,
  });
}

/** Every SDK client a test needs, pointed at the emulator (test-only ones included). */
export function testClients(config: AwsConfig = testAwsConfig()) {
  const dynamodbRaw = new DynamoDBClient(clientOptions(config, 'dynamodb'));
  return {
    config,
    acm: new ACMClient(clientOptions(config, 'acm')),
    secretsManager: new SecretsManagerClient(clientOptions(config, 'secretsManager')),
    dynamodbRaw,
    dynamodb: DynamoDBDocumentClient.from(dynamodbRaw),
    ssm: new SSMClient(clientOptions(config, 'ssm')),
    sqs: new SQSClient(clientOptions(config, 'sqs')),
    sns: new SNSClient(clientOptions(config, 'sns')),
    ec2: new EC2Client(clientOptions(config, 'ec2')),
    sts: new STSClient(clientOptions(config, 'sts')),
    iam: new IAMClient(clientOptions(config, 'iam')),
    eventbridge: new EventBridgeClient(clientOptions(config, 'eventbridge')),
  };
}

export type TestClients = ReturnType<typeof testClients>;
