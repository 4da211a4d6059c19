import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DescribeDocumentCommand, GetDocumentCommand } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deploymentsTable,
  instanceRunningEventPattern,
  jobQueue,
  mappingTable,
  renewalEventPattern,
} from '../../../infra/lib/resource-definitions.ts';
import { testClients } from '../../../service/test/support/aws.ts';
import { buildDocumentObject } from '../../../ssm/build-document.ts';
import { defaultNames, type Provisioned, provision } from '../../provision.ts';
import { emulatorAlarmTopicArn } from '../../stack-env.ts';

const clients = testClients();
const provisionClients = {
  dynamodb: clients.dynamodbRaw,
  sqs: clients.sqs,
  eventbridge: clients.eventbridge,
  ssm: clients.ssm,
  sns: clients.sns,
};

let first: Provisioned;
beforeAll(async () => {
  first = await provision(provisionClients);
});

describe('provision on the emulator', () => {
  it('creates CertTagMapping with the original keys and the certificate-ARN index', async () => {
    const { Table } = await clients.dynamodbRaw.send(
      new DescribeTableCommand({ TableName: mappingTable.defaultName }),
    );
    expect(Table?.KeySchema).toEqual([
      { AttributeName: mappingTable.partitionKey, KeyType: 'HASH' },
      { AttributeName: mappingTable.sortKey, KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema])).toEqual([
      [
        mappingTable.certificateIndex.name,
        [
          { AttributeName: mappingTable.certificateIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: mappingTable.certificateIndex.sortKey, KeyType: 'RANGE' },
        ],
      ],
    ]);
  });

  it('creates CertDeployments with its index and TTL on ExpiresAt', async () => {
    const { Table } = await clients.dynamodbRaw.send(
      new DescribeTableCommand({ TableName: deploymentsTable.defaultName }),
    );
    expect(Table?.KeySchema).toEqual([
      { AttributeName: deploymentsTable.partitionKey, KeyType: 'HASH' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe(
      deploymentsTable.certificateIndex.name,
    );
    const ttl = await clients.dynamodbRaw.send(
      new DescribeTimeToLiveCommand({ TableName: deploymentsTable.defaultName }),
    );
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: deploymentsTable.ttlAttribute,
      TimeToLiveStatus: 'ENABLED',
    });
  });

  it('creates the job queue redriving to the DLQ', async () => {
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: first.queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes?.VisibilityTimeout).toBe(String(jobQueue.visibilityTimeoutSeconds));
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: first.deadLetterQueueArn,
      maxReceiveCount: jobQueue.maxReceiveCount,
    });
    expect(first.deadLetterQueueUrl).toMatch(new RegExp(`/${jobQueue.deadLetterName}$`));
  });

  it('creates the renewal rule with the shared pattern, targeting the queue', async () => {
    const rule = await clients.eventbridge.send(
      new DescribeRuleCommand({ Name: defaultNames.ruleName }),
    );
    expect(JSON.parse(rule.EventPattern ?? '{}')).toEqual(renewalEventPattern);
    const { Targets } = await clients.eventbridge.send(
      new ListTargetsByRuleCommand({ Rule: defaultNames.ruleName }),
    );
    expect(Targets?.map((t) => t.Arn)).toEqual([first.queueArn]);
  });

  it('creates the instance-running rule with the shared pattern, targeting the queue', async () => {
    const rule = await clients.eventbridge.send(
      new DescribeRuleCommand({ Name: defaultNames.instanceRuleName }),
    );
    expect(JSON.parse(rule.EventPattern ?? '{}')).toEqual(instanceRunningEventPattern);
    const { Targets } = await clients.eventbridge.send(
      new ListTargetsByRuleCommand({ Rule: defaultNames.instanceRuleName }),
    );
    expect(Targets?.map((t) => t.Arn)).toEqual([first.queueArn]);
  });

  it('creates the install document from ssm/build-document.ts', async () => {
    const doc = await clients.ssm.send(
      new GetDocumentCommand({ Name: 'Install-ACMCertificate', DocumentFormat: 'JSON' }),
    );
    expect(doc.DocumentType).toBe('Command');
    expect(JSON.parse(doc.Content ?? '{}')).toEqual(buildDocumentObject());
  });

  it('routes a renewal published as aws.acm to the queue (moto accepts the AWS source) and ignores issuance', async () => {
    const put = await clients.eventbridge.send(
      new PutEventsCommand({
        Entries: (['ISSUANCE', 'RENEWAL'] as const).map((action) => ({
          Source: 'aws.acm',
          DetailType: 'ACM Certificate Available',
          Detail: JSON.stringify({ Action: action }),
          Resources: [`arn:aws:acm:us-east-1:123456789012:certificate/${action.toLowerCase()}`],
        })),
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const { Messages } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: first.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect(Messages?.map((m) => JSON.parse(m.Body ?? '{}').resources)).toEqual([
      ['arn:aws:acm:us-east-1:123456789012:certificate/renewal'],
    ]);
  });

  it('creates the alarm topic the worker publishes its notifications to, under the bed’s name', async () => {
    expect(first.notifyTopicArn).toBe(emulatorAlarmTopicArn);
    const { Attributes } = await clients.sns.send(
      new GetTopicAttributesCommand({ TopicArn: emulatorAlarmTopicArn }),
    );
    expect(Attributes?.TopicArn).toBe(emulatorAlarmTopicArn);
  });

  it('is idempotent: a second run returns the same resources and adds no document version', async () => {
    const second = await provision(provisionClients);
    expect(second).toEqual(first);
    const { Document } = await clients.ssm.send(
      new DescribeDocumentCommand({ Name: 'Install-ACMCertificate' }),
    );
    expect(Document?.LatestVersion).toBe('1');
  });

  it('takes other names and event sources (for tests that publish as their own source)', async () => {
    const custom = await provision(provisionClients, {
      mappingTable: 'OtherMapping',
      deploymentsTable: 'OtherDeployments',
      queueName: 'other-jobs',
      deadLetterQueueName: 'other-jobs-dlq',
      ruleName: 'other-renewals',
      eventSources: ['aws.acm', 'test.acm'],
    });
    expect(custom.queueUrl).toMatch(/\/other-jobs$/);
    const rule = await clients.eventbridge.send(
      new DescribeRuleCommand({ Name: 'other-renewals' }),
    );
    expect(JSON.parse(rule.EventPattern ?? '{}').source).toEqual(['aws.acm', 'test.acm']);
  });
});
