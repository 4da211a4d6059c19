import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/messages/parse-message.ts';
import {
  aMapping,
  certArn,
  otherCertArn,
  principals,
  type TestApi,
  testApi,
} from './support/harness.ts';

let api: TestApi;
beforeEach(async () => {
  api = testApi();
  await api.mappings.put(aMapping());
});
afterEach(async () => {
  await api.app.close();
});

const oneMapping = {
  certificateArn: certArn,
  certName: 'web',
  target: { key: 'env', value: 'dev' },
};
const sweepId = /^api-[0-9a-f-]{36}$/;

/** The one message queued, checked against the schema the worker parses it with. */
function queued() {
  expect(api.queue.reconciles).toHaveLength(1);
  const [message] = api.queue.reconciles;
  const parsed = parseMessage(JSON.stringify(message));
  expect(parsed.kind).toBe(message?.type);
  return message;
}

describe('POST /v1/reconcile of every mapping', () => {
  it('queues a sweep for a principal that may deploy everywhere, carrying who asked', async () => {
    const res = await api.call('admin', 'POST', '/v1/reconcile', {});
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toEqual({ sweepId: expect.stringMatching(sweepId), scope: 'all', verify: false });
    expect(queued()).toEqual({
      type: 'reconcile',
      version: 1,
      sweepId: body.sweepId,
      requester: principals.admin,
    });
    expect(api.queue.messages).toEqual([]);
  });

  it('with verify, the sweep checks the servers’ files too; each request is a sweep of its own', async () => {
    const first = await api.call('admin', 'POST', '/v1/reconcile', { verify: true });
    expect(first.json()).toMatchObject({ scope: 'all', verify: true });
    expect(queued()).toMatchObject({ type: 'reconcile', verify: true });
    const second = await api.call('admin', 'POST', '/v1/reconcile', { verify: true });
    expect(second.json().sweepId).not.toBe(first.json().sweepId);
  });

  it('is refused (403) to a principal that may deploy to some targets only, saying what it needs', async () => {
    const res = await api.call('ci', 'POST', '/v1/reconcile', {});
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toEqual({
      code: 'FORBIDDEN',
      message: `${principals.ci} may not reconcile every mapping: that needs "deploy" on every target (a rule whose targets include "*=*"); name one mapping (certificateArn, certName, target) on a target you may deploy to instead`,
    });
    expect(api.queue.reconciles).toEqual([]);
  });

  it('is refused (403) to a reader, as every deploy route is', async () => {
    const res = await api.call('reader', 'POST', '/v1/reconcile', {});
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toBe(`${principals.reader} is not allowed to deploy`);
  });
});

describe('POST /v1/reconcile of one mapping', () => {
  it('queues that mapping’s reconciliation for a principal that may deploy to its target', async () => {
    const res = await api.call('ci', 'POST', '/v1/reconcile', { ...oneMapping, verify: true });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toEqual({
      sweepId: expect.stringMatching(sweepId),
      scope: 'mapping',
      verify: true,
    });
    expect(queued()).toEqual({
      type: 'reconcile-mapping',
      version: 1,
      sweepId: body.sweepId,
      ...oneMapping,
      verify: true,
      requester: principals.ci,
    });
  });

  it('is refused (403) on a target the principal may not deploy to', async () => {
    await api.mappings.put(aMapping({ target: { key: 'env', value: 'prod' } }));
    const res = await api.call('ci', 'POST', '/v1/reconcile', {
      ...oneMapping,
      target: { key: 'env', value: 'prod' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toBe(`${principals.ci} is not allowed to deploy to env=prod`);
    expect(api.queue.reconciles).toEqual([]);
  });

  it('404 MAPPING_NOT_FOUND when the certificate is not managed on that target', async () => {
    const res = await api.call('admin', 'POST', '/v1/reconcile', {
      ...oneMapping,
      certificateArn: otherCertArn,
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toEqual({
      code: 'MAPPING_NOT_FOUND',
      message: `web of ${otherCertArn} is not managed on env=dev`,
    });
    expect(api.queue.reconciles).toEqual([]);
  });

  it('403 CERTIFICATE_NOT_ALLOWED for a certificate outside the allow-list, as a deployment', async () => {
    await api.app.close();
    api = testApi({ config: { allowedCertificateArns: [otherCertArn] } });
    await api.mappings.put(aMapping());
    const res = await api.call('admin', 'POST', '/v1/reconcile', oneMapping);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('CERTIFICATE_NOT_ALLOWED');
  });
});

describe('POST /v1/reconcile refuses', () => {
  it.each([
    [
      'a certificate without name and target',
      { certificateArn: certArn },
      ['/certName', '/target'],
    ],
    [
      'a target alone',
      { target: { key: 'env', value: 'dev' }, verify: true },
      ['/certificateArn', '/certName'],
    ],
    ['a name without target', { certificateArn: certArn, certName: 'web' }, ['/target']],
  ])('400 for %s, naming what is missing', async (_what, body, missing) => {
    const res = await api.call('admin', 'POST', '/v1/reconcile', body);
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.map((d: { field: string }) => d.field)).toEqual(missing);
    expect(error.message).toMatch(
      /is required with the other two of certificateArn, certName and target/,
    );
    expect(api.queue.reconciles).toEqual([]);
  });

  it.each([
    ['an unknown field', { everything: true }, '/everything'],
    ['a malformed ARN', { ...oneMapping, certificateArn: 'arn:nope' }, '/certificateArn'],
    ['verify that is not a boolean', { verify: 'yes' }, '/verify'],
    ['a name with ..', { ...oneMapping, certName: 'a..b' }, '/certName'],
  ])('400 for %s', async (_what, body, field) => {
    const res = await api.call('admin', 'POST', '/v1/reconcile', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('400 INVALID_JSON without a body', async () => {
    const res = await api.call('admin', 'POST', '/v1/reconcile');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_JSON');
  });
});

describe('POST /v1/reconcile when AWS fails', () => {
  it('503 QUEUE_UNAVAILABLE when SQS refuses the message; a retry queues it', async () => {
    api.queue.failures = 1;
    const failed = await api.call('admin', 'POST', '/v1/reconcile', {});
    expect(failed.statusCode).toBe(503);
    expect(failed.json().error).toEqual({
      code: 'QUEUE_UNAVAILABLE',
      message: 'the reconciliation could not be queued; nothing was done: send it again',
      requestId: expect.any(String),
    });
    expect(failed.body).not.toContain('SQS is down');
    const retry = await api.call('admin', 'POST', '/v1/reconcile', oneMapping);
    expect(retry.statusCode).toBe(202);
    expect(api.queue.reconciles).toHaveLength(1);
  });

  it('503 DEPENDENCY_UNAVAILABLE when the mappings table cannot be read', async () => {
    api.mappings.get = async () => {
      throw new Error('DynamoDB is down');
    };
    const res = await api.call('admin', 'POST', '/v1/reconcile', oneMapping);
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(api.queue.reconciles).toEqual([]);
  });
});
