import { Writable } from 'node:stream';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Provisioned, provision } from '../../../../local/provision.ts';
import { buildApp } from '../../../src/api/app.ts';
import { createAuthToken } from '../../../src/auth/token-client.ts';
import { type AwsClients, createAwsClients } from '../../../src/aws/clients.ts';
import { buildApiDependencies, buildPorts, type Ports } from '../../../src/composition.ts';
import { type Config, loadConfig } from '../../../src/config/config.ts';
import { SecretValue } from '../../../src/domain/secret-value.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { parseMessage } from '../../../src/messages/parse-message.ts';
import { testClients } from '../../support/aws.ts';
import { motoEndpoint } from '../../support/bed-lane.ts';
import { anIamUser, type IamUser } from '../../support/builders/iam-users.ts';
import { aDeployment, aMapping, certArn, v1Body } from '../../unit/api/support/harness.ts';

/**
 * The API over the real adapters (DynamoDB, SQS, Secrets Manager) built by the composition root,
 * against the emulator: what the API writes is what the worker reads.
 */

const endpoint = motoEndpoint();
const clients = testClients();
let provisioned: Provisioned;
let config: Config;
let aws: AwsClients;
let ports: Ports;
/** The same adapters on clients without an app id: the test arranging the world, not evaluated. */
let arranged: Ports;
let arrangedAws: AwsClients;
let app: FastifyInstance;
let alice: IamUser;
let token: string;
const logs: string[] = [];

function configFor(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpoint,
    AWS_MAX_ATTEMPTS: '2',
    QUEUE_URL: provisioned.queueUrl,
    DLQ_URL: provisioned.deadLetterQueueUrl,
    AUTH_MODE: 'sts',
    AUTH_PRINCIPALS: JSON.stringify([
      { principal: alice.arn, actions: ['read', 'deploy'], targets: ['env=dev'] },
    ]),
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

function appFor(c: Config, p: Ports): FastifyInstance {
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _e, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );
  return buildApp(buildApiDependencies(c, p, logger));
}

beforeAll(async () => {
  provisioned = await provision({
    dynamodb: clients.dynamodbRaw,
    sqs: clients.sqs,
    eventbridge: clients.eventbridge,
    ssm: clients.ssm,
  });
  alice = await anIamUser(clients.iam, { userName: 'alice-api' });
  config = configFor();
  // The API's own clients, with its app id: the IAM evaluation (local/iam) checks its requests
  // as the API's, whether it runs in the container (task role) or as the Lambda function.
  aws = createAwsClients(config.aws, 'acm-cert-export-api');
  ports = buildPorts(config, aws);
  arrangedAws = createAwsClients(config.aws);
  arranged = buildPorts(config, arrangedAws);
  app = appFor(config, ports);
  token = await createAuthToken({
    credentials: alice.credentials,
    stsEndpoint: config.auth.stsEndpoint,
    region: 'us-east-1',
    audience: config.auth.audience,
  });
});

afterAll(async () => {
  await app?.close();
  aws?.destroy();
  arrangedAws?.destroy();
});

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, headers = {}) =>
  app.inject({
    method,
    url,
    headers: { authorization: token, ...headers },
    ...(body === undefined ? {} : { payload: body as object }),
  });

async function receiveAll(): Promise<string[]> {
  const out = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: provisioned.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 60,
    }),
  );
  return (out.Messages ?? []).map((m) => m.Body ?? '');
}

describe('the API over the real adapters', () => {
  it('records the job in DynamoDB as Queued and puts a message the worker parses on SQS', async () => {
    const res = await call('POST', '/v1/deployments', v1Body, { 'idempotency-key': 'it-1' });
    expect(res.statusCode).toBe(202);
    const { jobId } = res.json();
    expect(await ports.deployments.get(jobId)).toMatchObject({
      status: 'Queued',
      job: { requester: alice.arn, trigger: 'api' },
    });
    const retry = await call('POST', '/v1/deployments', v1Body, { 'idempotency-key': 'it-1' });
    expect(retry.json().jobId).toBe(jobId);
    const bodies = await receiveAll();
    expect(bodies.length).toBeGreaterThanOrEqual(1);
    for (const body of bodies) {
      expect(parseMessage(body)).toEqual({
        kind: 'deploy',
        message: {
          type: 'deploy',
          version: 1,
          jobId,
          certificateArn: certArn,
          certName: 'web',
          target: { key: 'env', value: 'dev' },
          requester: alice.arn,
          trigger: 'api',
        },
      });
    }
    const status = await call('GET', `/v1/deployments/${jobId}`);
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({ jobId, status: 'Queued' });
  });

  it('lists mappings page by page with the table’s cursors; a forged cursor is a 400', async () => {
    for (const name of ['a', 'b', 'c']) {
      await arranged.mappings.put(
        aMapping({ certName: name, notAfter: '2099-01-01T00:00:00.000Z' }),
      );
    }
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await call(
        'GET',
        `/v1/certificates?limit=2${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      expect(res.statusCode).toBe(200);
      names.push(...res.json().items.map((i: { certName: string }) => i.certName));
      cursor = res.json().nextCursor;
    } while (cursor !== undefined);
    expect(names.sort()).toEqual(['a', 'b', 'c']);
    const forged = await call('GET', '/v1/certificates?cursor=bm9wZQ');
    expect(forged.statusCode).toBe(400);
    expect(forged.json().error.code).toBe('INVALID_CURSOR');
  });

  it('lists a certificate’s deployments through the certificate index', async () => {
    await arranged.deployments.create(
      aDeployment({ jobId: 'job-index-0001', createdAt: '2026-01-01T00:00:00.000Z' }),
    );
    const res = await call('GET', `/v1/certificates/${encodeURIComponent(certArn)}/deployments`);
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((d: { jobId: string }) => d.jobId)).toContain('job-index-0001');
  });

  it('stops managing: schedules the Secrets Manager secret for deletion, removes the mapping and its servers', async () => {
    const stored = await arranged.secrets.putNewVersion({
      name: `${config.secrets.prefix}it-delete`,
      tags: {},
      value: new SecretValue('correct horse battery staple'),
      token: '11111111-2222-3333-4444-555555555555',
    });
    await arranged.mappings.put(aMapping({ certName: 'gone', secretArn: stored.secretArn }));
    const goneKey = {
      target: { key: 'env', value: 'dev' },
      certificateArn: certArn,
      certName: 'gone',
    };
    await arranged.servers.recordInstalled(goneKey, [
      {
        instanceId: 'i-0aaaaaaaaaaaaaaa1',
        serial: '0a',
        lastStatus: 'Success',
        lastJobId: 'job-gone-0001',
        updatedAt: '2026-11-30T00:00:00.000Z',
      },
    ]);
    const url = `/v1/certificates/${encodeURIComponent(certArn)}/targets/env/dev/gone`;
    const res = await call('DELETE', url);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ secretDeletion: 'scheduled', recoveryWindowDays: 7 });
    const secret = await clients.secretsManager.send(
      new DescribeSecretCommand({ SecretId: stored.secretArn }),
    );
    expect(secret.DeletedDate).toBeInstanceOf(Date);
    expect(
      await ports.mappings.get({
        target: { key: 'env', value: 'dev' },
        certificateArn: certArn,
        certName: 'gone',
      }),
    ).toBeUndefined();
    // What each server held is forgotten with the mapping (a BatchWriteItem of deletes).
    expect(await arranged.servers.installed(goneKey)).toEqual([]);
    expect((await call('DELETE', url)).statusCode).toBe(404);
  });

  it('/readyz checks the queue and the tables', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      checks: { queue: 'ok', mappings: 'ok', deployments: 'ok' },
    });
  });

  it('a queue that refuses the message: 503, and the record does not wait forever', async () => {
    const broken = configFor({
      QUEUE_URL: `${endpoint}/123456789012/no-such-queue`,
      MAPPING_TABLE: config.tables.mappings,
    });
    // No app id: a queue outside the stack is not a request the deployed API can make, so the
    // IAM evaluation would only report what this test already expects to fail.
    const brokenAws = createAwsClients(broken.aws);
    const brokenApp = appFor(broken, buildPorts(broken, brokenAws));
    try {
      const res = await brokenApp.inject({
        method: 'POST',
        url: '/v1/deployments',
        headers: { authorization: token },
        payload: v1Body,
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('QUEUE_UNAVAILABLE');
      expect(res.body).not.toContain('no-such-queue');
      const ready = await brokenApp.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.queue).toBe('failing');
    } finally {
      await brokenApp.close();
      brokenAws.destroy();
    }
  });
});
