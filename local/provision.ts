/**
 * Creates in the emulator what the CDK stack creates in AWS and the service needs: the two
 * tables (keys, indexes and TTL from infra/lib/resource-definitions.ts, as the stack), the job
 * queue with its DLQ and redrive policy, the EventBridge rule sending ACM renewals to the
 * queue, the Install-ACMCertificate document built by ssm/build-document.ts and, given an SNS
 * client, the alarm topic the worker publishes its notifications to.
 *
 * Idempotent: a second run finds everything in place and changes nothing (a changed document
 * becomes a new default version, like the stack's UpdateMethod NewVersion). Independent parts
 * are created concurrently so the integration tests can call it per file.
 *
 * moto accepts PutEvents with `source: aws.acm` (real AWS refuses it from an account), so tests
 * can publish renewals exactly as ACM would; `eventSources` adds other sources if wanted.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  CreateDocumentCommand,
  GetDocumentCommand,
  type SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import {
  commandStatusEventPattern,
  deploymentsTable,
  documentName,
  expirationEventPattern,
  instanceRunningEventPattern,
  jobQueue,
  mappingTable,
  renewalEventPattern,
  serversTable,
} from '../infra/lib/resource-definitions.ts';
import { buildDocumentObject } from '../ssm/build-document.ts';
import { emulatorAlarmTopicName } from './stack-env.ts';

export interface ProvisionClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly eventbridge: EventBridgeClient;
  readonly ssm: SSMClient;
  /** With it, the alarm topic too (the worker's notifications). */
  readonly sns?: SNSClient;
}

export interface ProvisionNames {
  readonly mappingTable: string;
  readonly deploymentsTable: string;
  readonly serversTable: string;
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  readonly documentName: string;
  readonly ruleName: string;
  /** The rule sending EC2 instances that enter running to the queue. */
  readonly instanceRuleName: string;
  readonly expirationRuleName: string;
  /** The rule sending Run Command's terminal status changes of the document to the queue. */
  readonly commandStatusRuleName: string;
  /** The rule's `source` values: `aws.acm` as in AWS; tests may add their own. */
  readonly eventSources: readonly string[];
  /** The alarm topic (its name in the bed: see stack-env.ts). */
  readonly notifyTopicName: string;
}

export const defaultNames: ProvisionNames = {
  mappingTable: mappingTable.defaultName,
  deploymentsTable: deploymentsTable.defaultName,
  serversTable: serversTable.defaultName,
  queueName: jobQueue.defaultName,
  deadLetterQueueName: jobQueue.deadLetterName,
  documentName,
  ruleName: 'acm-cert-export-renewals',
  instanceRuleName: 'acm-cert-export-instances',
  expirationRuleName: 'acm-cert-export-expiration',
  commandStatusRuleName: 'acm-cert-export-command-status',
  eventSources: renewalEventPattern.source,
  notifyTopicName: emulatorAlarmTopicName,
};

export interface Provisioned {
  readonly names: ProvisionNames;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly ruleArn: string;
  /** The alarm topic, when provisioned with an SNS client. */
  readonly notifyTopicArn?: string;
}

const string = 'S' as const;

/** CreateTable inputs of the three tables, from the shared definitions. */
export function tableInputs(
  names: Pick<ProvisionNames, 'mappingTable' | 'deploymentsTable' | 'serversTable'>,
) {
  const mappings: CreateTableCommandInput = {
    TableName: names.mappingTable,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: mappingTable.partitionKey, AttributeType: string },
      { AttributeName: mappingTable.sortKey, AttributeType: string },
      { AttributeName: mappingTable.certificateIndex.partitionKey, AttributeType: string },
    ],
    KeySchema: [
      { AttributeName: mappingTable.partitionKey, KeyType: 'HASH' },
      { AttributeName: mappingTable.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: mappingTable.certificateIndex.name,
        KeySchema: [
          { AttributeName: mappingTable.certificateIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: mappingTable.certificateIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
  const deployments: CreateTableCommandInput = {
    TableName: names.deploymentsTable,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: deploymentsTable.partitionKey, AttributeType: string },
      { AttributeName: deploymentsTable.certificateIndex.partitionKey, AttributeType: string },
      { AttributeName: deploymentsTable.certificateIndex.sortKey, AttributeType: string },
    ],
    KeySchema: [{ AttributeName: deploymentsTable.partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: deploymentsTable.certificateIndex.name,
        KeySchema: [
          { AttributeName: deploymentsTable.certificateIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: deploymentsTable.certificateIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: deploymentsTable.certificateIndex.projection },
      },
    ],
  };
  const servers: CreateTableCommandInput = {
    TableName: names.serversTable,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: serversTable.partitionKey, AttributeType: string },
      { AttributeName: serversTable.sortKey, AttributeType: string },
    ],
    KeySchema: [
      { AttributeName: serversTable.partitionKey, KeyType: 'HASH' },
      { AttributeName: serversTable.sortKey, KeyType: 'RANGE' },
    ],
  };
  return { mappings, deployments, servers };
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | null)?.name;
}

async function createTable(db: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  try {
    await db.send(new CreateTableCommand(input));
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
}

async function tables(db: DynamoDBClient, names: ProvisionNames): Promise<void> {
  const inputs = tableInputs(names);
  await Promise.all([
    createTable(db, inputs.mappings),
    createTable(db, inputs.deployments),
    createTable(db, inputs.servers),
  ]);
  const ttl = [
    [names.deploymentsTable, deploymentsTable.ttlAttribute],
    [names.serversTable, serversTable.ttlAttribute],
  ] as const;
  for (const [TableName, AttributeName] of ttl) {
    try {
      await db.send(
        new UpdateTimeToLiveCommand({
          TableName,
          TimeToLiveSpecification: { AttributeName, Enabled: true },
        }),
      );
    } catch (error) {
      // DynamoDB refuses to enable TTL twice ("TimeToLive is already enabled").
      if (errorName(error) !== 'ValidationException') throw error;
    }
  }
}

/** Creates the queue, or brings an existing one to these attributes. */
async function queue(sqs: SQSClient, name: string, attributes: Record<string, string>) {
  let url: string | undefined;
  try {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
      .QueueUrl;
  } catch (error) {
    // Exists with other attributes (an older run): keep it, update the attributes.
    if (errorName(error) !== 'QueueNameExists' && errorName(error) !== 'QueueAlreadyExists') {
      throw error;
    }
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  if (url === undefined) throw new Error(`no URL for queue ${name}`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`no ARN for queue ${name}`);
  return { url, arn };
}

/** The queue policy the stack's SqsQueue targets add: EventBridge, from these rules only. */
function eventBridgePolicy(queueArn: string, ruleArns: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: ruleArns.map((ruleArn) => ({
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: queueArn,
      Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    })),
  });
}

async function queuesAndRule(clients: ProvisionClients, names: ProvisionNames) {
  const dlq = await queue(clients.sqs, names.deadLetterQueueName, {
    MessageRetentionPeriod: String(jobQueue.retentionSeconds),
  });
  const jobs = await queue(clients.sqs, names.queueName, {
    VisibilityTimeout: String(jobQueue.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(jobQueue.retentionSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: jobQueue.maxReceiveCount,
    }),
  });
  const { RuleArn } = await clients.eventbridge.send(
    new PutRuleCommand({
      Name: names.ruleName,
      Description: 'ACM certificate renewals to the acm-cert-export job queue',
      EventPattern: JSON.stringify({ ...renewalEventPattern, source: [...names.eventSources] }),
      State: 'ENABLED',
    }),
  );
  if (RuleArn === undefined) throw new Error(`no ARN for rule ${names.ruleName}`);
  const instanceRule = await clients.eventbridge.send(
    new PutRuleCommand({
      Name: names.instanceRuleName,
      Description: 'EC2 instances entering running to the acm-cert-export job queue',
      EventPattern: JSON.stringify(instanceRunningEventPattern),
      State: 'ENABLED',
    }),
  );
  if (instanceRule.RuleArn === undefined)
    throw new Error(`no ARN for rule ${names.instanceRuleName}`);
  const expirationRule = await clients.eventbridge.send(
    new PutRuleCommand({
      Name: names.expirationRuleName,
      Description: 'ACM certificates approaching expiration to the acm-cert-export job queue',
      EventPattern: JSON.stringify({ ...expirationEventPattern, source: [...names.eventSources] }),
      State: 'ENABLED',
    }),
  );
  if (expirationRule.RuleArn === undefined)
    throw new Error(`no ARN for rule ${names.expirationRuleName}`);
  const commandRule = await clients.eventbridge.send(
    new PutRuleCommand({
      Name: names.commandStatusRuleName,
      Description:
        'Run Command status changes of the install document to the acm-cert-export job queue',
      EventPattern: JSON.stringify(commandStatusEventPattern(names.documentName)),
      State: 'ENABLED',
    }),
  );
  if (commandRule.RuleArn === undefined)
    throw new Error(`no ARN for rule ${names.commandStatusRuleName}`);
  for (const rule of [
    names.ruleName,
    names.instanceRuleName,
    names.expirationRuleName,
    names.commandStatusRuleName,
  ]) {
    await clients.eventbridge.send(
      new PutTargetsCommand({
        Rule: rule,
        Targets: [{ Id: 'job-queue', Arn: jobs.arn, DeadLetterConfig: { Arn: dlq.arn } }],
      }),
    );
  }
  await Promise.all(
    [jobs, dlq].map((q) =>
      clients.sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: q.url,
          Attributes: {
            Policy: eventBridgePolicy(q.arn, [
              RuleArn,
              instanceRule.RuleArn as string,
              expirationRule.RuleArn as string,
              commandRule.RuleArn as string,
            ]),
          },
        }),
      ),
    ),
  );
  return { jobs, dlq, ruleArn: RuleArn };
}

/** Same content as the stack's CfnDocument: the JSON of buildDocumentObject(). */
async function installDocument(ssm: SSMClient, name: string): Promise<void> {
  const content = JSON.stringify(buildDocumentObject(), null, 2);
  let current: string | undefined;
  try {
    current = (await ssm.send(new GetDocumentCommand({ Name: name, DocumentFormat: 'JSON' })))
      .Content;
  } catch (error) {
    if (errorName(error) !== 'InvalidDocument') throw error;
  }
  if (current === undefined) {
    await ssm.send(
      new CreateDocumentCommand({
        Name: name,
        Content: content,
        DocumentType: 'Command',
        DocumentFormat: 'JSON',
      }),
    );
    return;
  }
  if (sameJson(current, content)) return;
  const updated = await ssm.send(
    new UpdateDocumentCommand({
      Name: name,
      Content: content,
      DocumentFormat: 'JSON',
      DocumentVersion: '$LATEST',
    }),
  );
  const version = updated.DocumentDescription?.DocumentVersion;
  if (version !== undefined) {
    await ssm.send(
      new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version }),
    );
  }
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** The alarm topic (CreateTopic returns the existing one of that name). */
async function topic(sns: SNSClient, name: string): Promise<string> {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  if (TopicArn === undefined) throw new Error(`no ARN for topic ${name}`);
  return TopicArn;
}

/** Provisions everything (see the file comment); returns the names, URLs and ARNs. */
export async function provision(
  clients: ProvisionClients,
  overrides: Partial<ProvisionNames> = {},
): Promise<Provisioned> {
  const names: ProvisionNames = { ...defaultNames, ...overrides };
  const [, messaging, , notifyTopicArn] = await Promise.all([
    tables(clients.dynamodb, names),
    queuesAndRule(clients, names),
    installDocument(clients.ssm, names.documentName),
    clients.sns === undefined ? undefined : topic(clients.sns, names.notifyTopicName),
  ]);
  return {
    names,
    queueUrl: messaging.jobs.url,
    queueArn: messaging.jobs.arn,
    deadLetterQueueUrl: messaging.dlq.url,
    deadLetterQueueArn: messaging.dlq.arn,
    ruleArn: messaging.ruleArn,
    ...(notifyTopicArn === undefined ? {} : { notifyTopicArn }),
  };
}
