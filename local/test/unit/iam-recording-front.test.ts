import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceLookup } from '../../iam/iam-request.ts';
import {
  type RecordedCall,
  type RecordingFront,
  recordedMarker,
  type ServerCall,
  startRecordingFront,
} from '../../iam/recording-front.ts';

const account = '123456789012';
const newSecretArn = `arn:aws:secretsmanager:us-east-1:${account}:secret:acm-passphrase/web-AbCdEf`;
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** An upstream that answers every call like AWS would, and remembers the headers it got. */
let upstream: Server;
let upstreamUrl: string;
const seen: IncomingHttpHeaders[] = [];

const noLookups: ResourceLookup = {
  secret: async () => undefined,
  instanceTags: async () => undefined,
  instancesTargeted: async () => [],
  hybridNodeRole: async () => undefined,
};

let front: RecordingFront;
let recorded: Promise<RecordedCall>[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      const target = String(req.headers['x-amz-target'] ?? '');
      res.end(
        JSON.stringify(
          target.endsWith('CreateSecret')
            ? { ARN: newSecretArn, Name: 'acm-passphrase/web', VersionId: 'v1' }
            : { MessageId: 'm-1', MD5OfMessageBody: '9dd4e461268c8034f5c8564e155c67a6' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  front = await startRecordingFront({
    target: upstreamUrl,
    lookup: noLookups,
    account,
    via: 'test',
    record: (call) => recorded.push(call),
  });
});

afterEach(() => {
  recorded = [];
  seen.length = 0;
});

afterAll(async () => {
  await front.stop();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

const clientOptions = (appId?: string) => ({
  region: 'us-east-1',
  credentials,
  maxAttempts: 1,
  ...(appId === undefined ? {} : { userAgentAppId: appId }),
});

describe('the recording front', () => {
  it('records a call of the service by its app id and forwards it, marked as recorded', async () => {
    const sqs = new SQSClient({
      ...clientOptions('acm-cert-export-worker'),
      endpoint: front.endpoint,
    });
    const out = await sqs.send(
      new SendMessageCommand({ QueueUrl: `${upstreamUrl}/${account}/jobs`, MessageBody: 'x' }),
    );
    sqs.destroy();
    expect(out.MessageId).toBe('m-1');
    expect(seen[0]?.[recordedMarker]).toBe('1');
    expect(await Promise.all(recorded)).toEqual([
      {
        appId: 'acm-cert-export-worker',
        operation: 'sqs:SendMessage',
        via: 'test',
        requests: [
          {
            action: 'sqs:SendMessage',
            resource: `arn:aws:sqs:us-east-1:${account}:jobs`,
            context: {},
          },
        ],
      },
    ]);
  });

  it('takes a new secret’s ARN, random suffix included, from the answer', async () => {
    const sm = new SecretsManagerClient({
      ...clientOptions('acm-cert-export'),
      endpoint: front.endpoint,
    });
    await sm.send(
      new CreateSecretCommand({
        Name: 'acm-passphrase/web',
        SecretString: 'correct horse battery staple',
        Tags: [{ Key: 'env', Value: 'dev' }],
      }),
    );
    sm.destroy();
    const [call] = await Promise.all(recorded);
    expect(call?.requests.map((r) => [r.action, r.resource])).toEqual([
      ['secretsmanager:CreateSecret', newSecretArn],
      ['secretsmanager:TagResource', newSecretArn],
    ]);
    expect(JSON.stringify(call)).not.toContain('correct horse');
  });

  it('neither records the tests’ own calls (no app id) nor a call already recorded upstream', async () => {
    const sqs = new SQSClient({ ...clientOptions(), endpoint: front.endpoint });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: `${upstreamUrl}/${account}/jobs`, MessageBody: 'x' }),
    );
    sqs.destroy();
    const res = await fetch(front.endpoint, {
      method: 'POST',
      headers: {
        'user-agent': 'aws-sdk-js/3 app/acm-cert-export-worker',
        [recordedMarker]: '1',
        'x-amz-target': 'AmazonSQS.SendMessage',
      },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(recorded).toEqual([]);
    expect(seen[0]?.[recordedMarker]).toBeUndefined();
  });

  it('records an operation it does not model as a problem naming it, and still forwards it', async () => {
    const ssm = new SSMClient({
      ...clientOptions('acm-cert-export-api'),
      endpoint: front.endpoint,
    });
    await ssm.send(new GetParameterCommand({ Name: 'x' })).catch(() => undefined);
    ssm.destroy();
    const [call] = await Promise.all(recorded);
    expect(call?.problem).toMatch(/acm-cert-export-api: ssm:GetParameter is not modelled/);
    expect(seen).toHaveLength(1);
  });
});

/** A stand-in server's GetSecretValue through a front with these lookups; its record. */
async function serverRead(lookup: ResourceLookup, serverId: string): Promise<ServerCall> {
  const serverCalls: Promise<ServerCall>[] = [];
  const serverFront = await startRecordingFront({
    target: upstreamUrl,
    lookup,
    account,
    via: 'test',
    record: (call) => recorded.push(call),
    recordServer: (call) => serverCalls.push(call),
  });
  try {
    const res = await fetch(serverFront.endpoint, {
      method: 'POST',
      headers: {
        'user-agent': `aws-cli/1.44 botocore/1.44.8 app/acm-cert-export-server.${serverId}`,
        authorization:
          'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0',
        'x-amz-target': 'secretsmanager.GetSecretValue',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: JSON.stringify({ SecretId: 'acm-passphrase/web' }),
    });
    expect(res.status).toBe(200);
  } finally {
    await serverFront.stop();
  }
  const [call] = await Promise.all(serverCalls);
  if (call === undefined) throw new Error('no server call recorded');
  return call;
}

describe('a stand-in server named in the User-Agent', () => {
  it('a hybrid node is its activation’s role, with the role’s tags', async () => {
    const roleArn = `arn:aws:iam::${account}:role/HybridNodes-1`;
    const call = await serverRead(
      {
        ...noLookups,
        hybridNodeRole: async (id) =>
          id === 'mi-0123456789abcdef0' ? { arn: roleArn, tags: { env: 'onprem' } } : undefined,
      },
      'mi-0123456789abcdef0',
    );
    expect(call).toMatchObject({
      instanceId: 'mi-0123456789abcdef0',
      roleArn,
      roleTags: { env: 'onprem' },
      requests: [{ action: 'secretsmanager:GetSecretValue' }],
    });
    expect(call.problem).toBeUndefined();
  });

  it('a hybrid node no stand-in knows is a problem, not a read with no tags', async () => {
    const call = await serverRead(noLookups, 'mi-0123456789abcdef1');
    expect(call).toMatchObject({ instanceId: 'mi-0123456789abcdef1', requests: [] });
    expect(call.problem).toMatch(/managed node mi-0123456789abcdef1: no Run Command stand-in/);
  });

  it('is recorded apart, with its instance’s tags as its role’s, and marked as recorded', async () => {
    const serverCalls: Promise<ServerCall>[] = [];
    const serverFront = await startRecordingFront({
      target: upstreamUrl,
      lookup: {
        ...noLookups,
        instanceTags: async (id) => (id === 'i-0abc' ? { env: 'dev' } : undefined),
      },
      account,
      via: 'test',
      record: (call) => recorded.push(call),
      recordServer: (call) => serverCalls.push(call),
    });
    try {
      const res = await fetch(serverFront.endpoint, {
        method: 'POST',
        headers: {
          'user-agent': 'aws-cli/1.44 botocore/1.44.8 app/acm-cert-export-server.i-0abc',
          authorization:
            'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0',
          'x-amz-target': 'secretsmanager.GetSecretValue',
          'content-type': 'application/x-amz-json-1.1',
        },
        body: JSON.stringify({ SecretId: 'acm-passphrase/web' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await serverFront.stop();
    }
    expect(recorded).toEqual([]);
    expect(seen[0]?.[recordedMarker]).toBe('1');
    const [call] = await Promise.all(serverCalls);
    expect(call).toMatchObject({
      instanceId: 'i-0abc',
      roleTags: { env: 'dev' },
      operation: 'secretsmanager:GetSecretValue',
      requests: [{ action: 'secretsmanager:GetSecretValue' }],
    });
  });
});
