import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ACMClient,
  DescribeCertificateCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startAwsProxy } from '../local/aws-proxy/aws-proxy.ts';
import { startMoto } from '../local/moto/moto-server.ts';
import { type Provisioned, provision } from '../local/provision.ts';
import { startRunCommandServer } from '../local/run-command/run-command-server.ts';
import { localServiceEnvironment, useEmulatorCredentials } from '../local/stack-env.ts';
import { clientOptions } from '../service/src/aws/clients.ts';
import { readAwsConfig } from '../service/src/config/aws-config.ts';

/**
 * Everything a benchmark needs on loopback: moto behind a counting proxy that holds
 * ExportCertificate to 5 per second (ACM's quota), the Run Command stand-in behind a counting
 * proxy, the provisioned resources, one exportable certificate, and tagged servers.
 */
export async function startBenchSystem(
  servers: Record<string, number>,
  behaviours: Record<string, string> = {},
) {
  // The benchmark talks to the emulator only: never real AWS credentials or profiles.
  useEmulatorCredentials();
  const stateDir = mkdtempSync(join(tmpdir(), 'acm-bench-'));
  const moto = await startMoto();
  const aws = await startAwsProxy({
    target: moto.endpoint,
    rates: [{ operation: 'CertificateManager.ExportCertificate', perSecond: 5 }],
  });
  const standIn = await startRunCommandServer({ motoEndpoint: moto.endpoint, stateDir });
  const ssmProxy = await startAwsProxy({ target: standIn.endpoint });
  // Set-up and observation go straight to moto / the stand-in: they are not the service's calls.
  const clients = directClients(moto.endpoint, standIn.endpoint);
  const { dynamodbRaw } = clients;
  const provisioned = await provision({
    dynamodb: dynamodbRaw,
    sqs: clients.sqs,
    eventbridge: clients.eventbridge,
    ssm: clients.ssm,
  });
  const certificateArn = await exportableCertificate(clients.acm, 'bench.example.com');
  for (const [value, count] of Object.entries(servers)) {
    await addServers(clients.ec2, value, count, behaviours[value]);
  }
  /**
   * The service's environment: the stack's (infra/lib/service-environment.ts, as the local run
   * builds it: API and worker in one process, STS authentication, the target tag key `env`, and
   * every setting the stack leaves unset at the service's default — 10 consumers, SSM rate
   * control 10 %), with every AWS call through the counting proxies and logs off.
   */
  const serviceEnv: Record<string, string> = {
    ...localServiceEnvironment({ moto: aws.endpoint, runCommand: ssmProxy.endpoint }),
    ...provisionedEnvironment(provisioned),
    LOG_LEVEL: 'silent',
    // Each process started with it serves /metrics on loopback, on a free port of its own.
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
  };
  return {
    moto,
    aws,
    ssmProxy,
    standIn,
    clients,
    provisioned,
    certificateArn,
    serviceEnv,
    async stop() {
      for (const c of Object.values(clients)) c.destroy();
      await ssmProxy.stop();
      await standIn.stop();
      await aws.stop();
      await moto.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export type BenchSystem = Awaited<ReturnType<typeof startBenchSystem>>;

/** The service's settings naming what `provision` made: the queues and the three tables. */
export function provisionedEnvironment(provisioned: Provisioned): Record<string, string> {
  return {
    QUEUE_URL: provisioned.queueUrl,
    DLQ_URL: provisioned.deadLetterQueueUrl,
    MAPPING_TABLE: provisioned.names.mappingTable,
    DEPLOYMENTS_TABLE: provisioned.names.deploymentsTable,
    SERVERS_TABLE: provisioned.names.serversTable,
  };
}

/** An exportable certificate on the bed, once ISSUED (10 s at most, else an error). */
export async function exportableCertificate(acm: ACMClient, domain: string): Promise<string> {
  const { CertificateArn } = await acm.send(
    new RequestCertificateCommand({
      DomainName: domain,
      ValidationMethod: 'DNS',
      Options: { Export: 'ENABLED' },
    }),
  );
  if (CertificateArn === undefined) throw new Error(`no certificate for ${domain}`);
  for (let i = 0; i < 100; i++) {
    const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn }));
    if (Certificate?.Status === 'ISSUED') return CertificateArn;
    await sleep(100);
  }
  throw new Error(`${domain} was never issued`);
}

/**
 * SDK clients straight to moto and the Run Command stand-in (no counting or fault proxy): for a
 * bed's set-up and for reading what the service did.
 */
export function directClients(motoEndpoint: string, standInEndpoint: string) {
  const direct = readAwsConfig({
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: motoEndpoint,
    AWS_ENDPOINT_URL_SSM: standInEndpoint,
  });
  const dynamodbRaw = new DynamoDBClient(clientOptions(direct, 'dynamodb'));
  return {
    acm: new ACMClient(clientOptions(direct, 'acm')),
    dynamodbRaw,
    dynamodb: DynamoDBDocumentClient.from(dynamodbRaw),
    sqs: new SQSClient(clientOptions(direct, 'sqs')),
    ssm: new SSMClient(clientOptions(direct, 'ssm')),
    ec2: new EC2Client(clientOptions(direct, 'ec2')),
    iam: new IAMClient(clientOptions(direct, 'iam')),
    eventbridge: new EventBridgeClient(clientOptions(direct, 'eventbridge')),
    secrets: new SecretsManagerClient(clientOptions(direct, 'secretsManager')),
    sns: new SNSClient(clientOptions(direct, 'sns')),
  };
}

/**
 * Starts `count` stand-in servers tagged env=`value` (and `standin:behaviour`), 100 to a
 * RunInstances call. A fleet is added just before it is measured: the stand-in derives managed
 * nodes from moto's DescribeInstances, which slows with every instance, and the other figures
 * should not carry that.
 */
export async function addServers(
  ec2: EC2Client,
  value: string,
  count: number,
  behaviour?: string,
): Promise<void> {
  for (let left = count; left > 0; left -= 100) {
    const n = Math.min(100, left);
    await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        MinCount: n,
        MaxCount: n,
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'env', Value: value },
              ...(behaviour === undefined ? [] : [{ Key: 'standin:behaviour', Value: behaviour }]),
            ],
          },
        ],
      }),
    );
  }
}
