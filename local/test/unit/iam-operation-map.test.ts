import { describe, expect, it } from 'vitest';
import type { AwsCall } from '../../iam/aws-wire.ts';
import type { ResourceLookup } from '../../iam/iam-request.ts';
import { iamRequestsOf, knownOperations, queueArnOfUrl } from '../../iam/operation-map.ts';

const account = '123456789012';
const secretArn = `arn:aws:secretsmanager:us-east-1:${account}:secret:acm-passphrase/web-1a2b3c-AbCdEf`;

const hybridNode = 'mi-0123456789abcdef0';

/** The emulator as the recorder sees it: one secret, three running instances, a hybrid node. */
const lookup: ResourceLookup = {
  async secret(id) {
    return id === 'acm-passphrase/web-1a2b3c' || id === secretArn
      ? { arn: secretArn, tags: { env: 'dev' } }
      : undefined;
  },
  async instanceTags(id): Promise<Record<string, string> | undefined> {
    if (id === hybridNode) return { env: 'onprem' };
    return id === 'i-0dev' ? { env: 'dev' } : id === 'i-0bare' ? {} : undefined;
  },
  async hybridNodeRole() {
    return undefined;
  },
  async instancesTargeted(targets) {
    const all: { instanceId: string; tags: Record<string, string> }[] = [
      { instanceId: 'i-0dev', tags: { env: 'dev' } },
      { instanceId: 'i-0dev2', tags: { env: 'dev', role: 'web' } },
      { instanceId: 'i-0prod', tags: { env: 'prod' } },
    ];
    return all.filter((i) =>
      targets.every(
        (t) => t.key.startsWith('tag:') && t.values.includes(i.tags[t.key.slice(4)] ?? ''),
      ),
    );
  },
};

function jsonCall(service: string, operation: string, json: Record<string, unknown>): AwsCall {
  return {
    service,
    region: 'us-east-1',
    operation,
    params: {
      json,
      query: new URLSearchParams(),
      string: (n) => (typeof json[n] === 'string' ? (json[n] as string) : undefined),
    },
  };
}

const map = (call: AwsCall) => iamRequestsOf(call, { account, lookup });

describe('the IAM requests of an AWS call', () => {
  it('CreateSecret with tags also asks for TagResource, with the request tags as context', async () => {
    const mapped = await map(
      jsonCall('secretsmanager', 'CreateSecret', {
        Name: 'acm-passphrase/web-1a2b3c',
        Tags: [{ Key: 'env', Value: 'dev' }],
        SecretString: 'never recorded',
      }),
    );
    expect(mapped.requests.map((r) => r.action)).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:TagResource',
    ]);
    for (const r of mapped.requests) {
      expect(r.context).toMatchObject({ 'aws:RequestTag/env': 'dev', 'aws:TagKeys': ['env'] });
    }
    expect(JSON.stringify(mapped)).not.toContain('never recorded');
    // The new secret's ARN, random suffix included, is in the answer.
    expect(mapped.resourceFromAnswer?.({ ARN: secretArn })).toBe(secretArn);
  });

  it('CreateSecret without tags asks for CreateSecret alone, with no request tag', async () => {
    const mapped = await map(
      jsonCall('secretsmanager', 'CreateSecret', { Name: 'acm-passphrase/x' }),
    );
    expect(mapped.requests).toHaveLength(1);
    expect(mapped.requests[0]?.context['aws:RequestTag/env']).toBeUndefined();
  });

  it.each(['PutSecretValue', 'GetSecretValue', 'DeleteSecret', 'RestoreSecret', 'DescribeSecret'])(
    '%s names the secret by its real ARN and carries its tags',
    async (operation) => {
      const mapped = await map(
        jsonCall('secretsmanager', operation, { SecretId: 'acm-passphrase/web-1a2b3c' }),
      );
      expect(mapped.requests).toEqual([
        {
          action: `secretsmanager:${operation}`,
          resource: secretArn,
          context: expect.objectContaining({ 'aws:ResourceTag/env': 'dev' }),
        },
      ]);
    },
  );

  it('a secret that does not exist is named by its name, with no tags', async () => {
    const mapped = await map(
      jsonCall('secretsmanager', 'PutSecretValue', { SecretId: 'acm-passphrase/new' }),
    );
    expect(mapped.requests[0]?.resource).toBe(
      `arn:aws:secretsmanager:us-east-1:${account}:secret:acm-passphrase/new`,
    );
  });

  it('a query of an index is authorized on the index, of the table on the table', async () => {
    const onIndex = await map(
      jsonCall('dynamodb', 'Query', {
        TableName: 'CertTagMapping',
        IndexName: 'CertificateArnIndex',
      }),
    );
    expect(onIndex.requests[0]?.resource).toBe(
      `arn:aws:dynamodb:us-east-1:${account}:table/CertTagMapping/index/CertificateArnIndex`,
    );
    const onTable = await map(jsonCall('dynamodb', 'GetItem', { TableName: 'CertDeployments' }));
    expect(onTable.requests[0]).toMatchObject({
      action: 'dynamodb:GetItem',
      resource: `arn:aws:dynamodb:us-east-1:${account}:table/CertDeployments`,
    });
  });

  it('a transaction asks for the action of each item on its table', async () => {
    const mapped = await map(
      jsonCall('dynamodb', 'TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'CertDeployments' } },
          { ConditionCheck: { TableName: 'CertTagMapping' } },
          { Update: { TableName: 'CertTagMapping' } },
        ],
      }),
    );
    expect(mapped.requests.map((r) => [r.action, r.resource.split('/').pop()])).toEqual([
      ['dynamodb:PutItem', 'CertDeployments'],
      ['dynamodb:ConditionCheckItem', 'CertTagMapping'],
      ['dynamodb:UpdateItem', 'CertTagMapping'],
    ]);
  });

  it('SQS calls name the queue by the ARN of its URL; batch forms ask for the single action', async () => {
    const url = 'http://127.0.0.1:5000/123456789012/acm-cert-export-jobs';
    expect(queueArnOfUrl('us-east-1', url)).toBe(
      `arn:aws:sqs:us-east-1:${account}:acm-cert-export-jobs`,
    );
    const mapped = await map(jsonCall('sqs', 'DeleteMessageBatch', { QueueUrl: url }));
    expect(mapped.requests[0]?.action).toBe('sqs:DeleteMessage');
    expect(() => queueArnOfUrl('us-east-1', 'http://127.0.0.1:5000/nope')).toThrow(
      /not a queue URL/,
    );
  });

  it('SendCommand by tag asks for the document and every instance the tag reaches, with their tags', async () => {
    const mapped = await map(
      jsonCall('ssm', 'SendCommand', {
        DocumentName: 'Install-ACMCertificate',
        Targets: [{ Key: 'tag:env', Values: ['dev'] }],
      }),
    );
    expect(mapped.requests.map((r) => r.resource)).toEqual([
      `arn:aws:ssm:us-east-1:${account}:document/Install-ACMCertificate`,
      `arn:aws:ec2:us-east-1:${account}:instance/i-0dev`,
      `arn:aws:ec2:us-east-1:${account}:instance/i-0dev2`,
    ]);
    expect(mapped.requests[2]?.context).toMatchObject({
      'ssm:resourceTag/env': 'dev',
      'ssm:resourceTag/role': 'web',
    });
  });

  it('SendCommand by InstanceIds asks for each instance, with the tags it has (none when unknown)', async () => {
    const mapped = await map(
      jsonCall('ssm', 'SendCommand', {
        DocumentName: 'Install-ACMCertificate',
        InstanceIds: ['i-0bare', 'i-0gone'],
      }),
    );
    expect(mapped.requests.slice(1)).toEqual([
      {
        action: 'ssm:SendCommand',
        resource: expect.stringMatching(/instance\/i-0bare$/),
        context: {},
      },
      {
        action: 'ssm:SendCommand',
        resource: expect.stringMatching(/instance\/i-0gone$/),
        context: {},
      },
    ]);
  });

  it('SendCommand to a hybrid node asks for it as a managed-instance, with its tags', async () => {
    const mapped = await map(
      jsonCall('ssm', 'SendCommand', {
        DocumentName: 'Install-ACMCertificate',
        InstanceIds: [hybridNode],
      }),
    );
    expect(mapped.requests.slice(1)).toEqual([
      {
        action: 'ssm:SendCommand',
        resource: `arn:aws:ssm:us-east-1:${account}:managed-instance/${hybridNode}`,
        context: { 'ssm:resourceTag/env': 'onprem', 'aws:ResourceTag/env': 'onprem' },
      },
    ]);
  });

  it.each([
    ['ssm', 'ListCommands'],
    ['ssm', 'ListCommandInvocations'],
    ['ssm', 'GetCommandInvocation'],
    ['ssm', 'CancelCommand'],
    ['ssm', 'DescribeInstanceInformation'],
    ['ec2', 'DescribeInstances'],
  ])('%s:%s takes no resource type: evaluated on *', async (service, operation) => {
    const mapped = await map(jsonCall(service, operation, {}));
    expect(mapped.requests).toEqual([
      { action: `${service}:${operation}`, resource: '*', context: {} },
    ]);
  });

  it('an operation it does not model fails, naming it', async () => {
    await expect(map(jsonCall('ssm', 'GetParameter', { Name: 'x' }))).rejects.toThrow(
      /ssm:GetParameter is not modelled/,
    );
  });

  it('knows every operation the service calls or is about to call', () => {
    const required = [
      'acm:DescribeCertificate',
      'acm:ExportCertificate',
      ...[
        'CreateSecret',
        'PutSecretValue',
        'GetSecretValue',
        'DescribeSecret',
        'DeleteSecret',
        'RestoreSecret',
      ].map((o) => `secretsmanager:${o}`),
      ...[
        'GetItem',
        'PutItem',
        'UpdateItem',
        'DeleteItem',
        'Query',
        'Scan',
        'TransactWriteItems',
        'BatchGetItem',
        'BatchWriteItem',
      ].map((o) => `dynamodb:${o}`),
      ...[
        'SendMessage',
        'SendMessageBatch',
        'ReceiveMessage',
        'DeleteMessage',
        'DeleteMessageBatch',
        'ChangeMessageVisibility',
        'ChangeMessageVisibilityBatch',
        'GetQueueAttributes',
      ].map((o) => `sqs:${o}`),
      ...[
        'SendCommand',
        'ListCommands',
        'ListCommandInvocations',
        'GetCommandInvocation',
        'CancelCommand',
        'DescribeInstanceInformation',
      ].map((o) => `ssm:${o}`),
      'ec2:DescribeInstances',
    ];
    expect(required.filter((op) => !knownOperations.includes(op))).toEqual([]);
  });
});
