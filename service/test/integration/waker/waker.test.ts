import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { GetQueueUrlCommand, PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackPolicies } from '../../../../local/iam/stack-policies.ts';
import { provision } from '../../../../local/provision.ts';
import { clientOptions } from '../../../src/aws/clients.ts';
import { handler } from '../../../src/waker/lambda.ts';
import { testClients } from '../../support/aws.ts';

// The waker against the emulator, through its real Lambda entry and the IAM recorder: its
// requests are evaluated against the waker role of the synthesized scale-to-zero stack. The ECS
// cluster and service are created under the names that role's policy grants.
const c = testClients();
const ecs = new ECSClient(clientOptions(c.config, 'ecs'));
let serviceArn: string;
let queueUrl: string;

async function desiredCount(): Promise<number | undefined> {
  const [cluster] = serviceArn.split('/').slice(1, 2);
  const answer = await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }));
  return answer.services?.[0]?.desiredCount;
}

beforeAll(async () => {
  const policies = await stackPolicies();
  const role = policies.apigateway.roles.wakerFunctionRole;
  if (role === undefined) throw new Error('the bed’s apigateway stack has no waker role');
  const grant = role.policies
    .flatMap((p) => p.policy.Statement)
    .find((s) => s.Sid === 'StartWorkerTask');
  serviceArn = String(grant?.Resource);
  const match = /^arn:aws:ecs:us-east-1:123456789012:service\/([^/]+)\/([^/]+)$/.exec(serviceArn);
  if (match === null) throw new Error(`unexpected service ARN in the waker role: ${serviceArn}`);
  const [, clusterName, serviceName] = match as unknown as [string, string, string];

  await provision({ dynamodb: c.dynamodbRaw, sqs: c.sqs, eventbridge: c.eventbridge, ssm: c.ssm });
  queueUrl = (await c.sqs.send(new GetQueueUrlCommand({ QueueName: 'acm-cert-export-jobs' })))
    .QueueUrl as string;
  await ecs.send(new CreateClusterCommand({ clusterName }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'acm-cert-export',
      containerDefinitions: [{ name: 'service', image: 'acm-cert-export:bed', memory: 512 }],
    }),
  );
  await ecs.send(
    new CreateServiceCommand({
      cluster: clusterName,
      serviceName,
      taskDefinition: 'acm-cert-export',
      desiredCount: 0,
    }),
  );
  Object.assign(process.env, {
    QUEUE_URL: queueUrl,
    WORKER_CLUSTER: clusterName,
    WORKER_SERVICE: serviceArn,
    LOG_LEVEL: 'warn',
  });
});

describe('the worker waker on the emulator', () => {
  it('leaves a scaled-to-zero service alone while the queue is empty', async () => {
    expect(await handler()).toEqual({ action: 'idle', messages: 0 });
    expect(await desiredCount()).toBe(0);
  });

  it('starts one task when a job waits, and leaves it to the scaling policies after that', async () => {
    await c.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"type":"expiry-check"}' }),
    );
    expect(await handler()).toMatchObject({ action: 'started', messages: 1 });
    expect(await desiredCount()).toBe(1);
    expect(await handler()).toMatchObject({ action: 'running', desiredCount: 1 });
    expect(await desiredCount()).toBe(1);
    await c.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  });
});
