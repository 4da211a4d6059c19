import { afterEach, describe, expect, it } from 'vitest';
import { idempotentJobId } from '../../../src/api/submit.ts';
import { jobIdPattern } from '../../../src/domain/names.ts';
import {
  certArn,
  legacyBody,
  otherCertArn,
  principals,
  type TestApi,
  testApi,
  v1Body,
} from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

describe.each([
  ['POST /v1/deployments', '/v1/deployments', v1Body],
  ['POST /export-cert (original body)', '/export-cert', legacyBody],
])('%s', (_name, url, body) => {
  it('records the job as Queued, then queues it, then answers 202 with the status URL', async () => {
    api = testApi();
    let recordAtSend: string | undefined;
    api.queue.beforeSend = async (m) => {
      recordAtSend = (await api.deployments.get(m.jobId ?? ''))?.status;
    };
    const res = await api.call('admin', 'POST', url, body);
    expect(res.statusCode).toBe(202);
    const out = res.json();
    expect(out).toEqual({
      jobId: expect.stringMatching(new RegExp(jobIdPattern)),
      status: 'Queued',
      statusUrl: `/v1/deployments/${out.jobId}`,
    });
    expect(res.headers.location).toBe(out.statusUrl);
    expect(recordAtSend).toBe('Queued');
    expect(api.queue.messages).toEqual([
      {
        type: 'deploy',
        version: 1,
        jobId: out.jobId,
        certificateArn: certArn,
        certName: 'web',
        target: { key: 'env', value: 'dev' },
        requester: principals.admin,
        trigger: 'api',
      },
    ]);
    const record = await api.deployments.get(out.jobId);
    expect(record).toMatchObject({
      status: 'Queued',
      version: 1,
      job: { requester: principals.admin, trigger: 'api', target: { key: 'env', value: 'dev' } },
    });
  });

  it('uses the public base URL for status links when configured', async () => {
    api = testApi({
      config: {
        api: {
          enabled: true,
          host: '127.0.0.1',
          port: 0,
          bodyLimit: 16384,
          deadlineSeconds: 25,
          publicBaseUrl: 'https://certs.example.com/',
        },
      },
    });
    const res = await api.call('admin', 'POST', url, body);
    expect(res.json().statusUrl).toBe(
      `https://certs.example.com/v1/deployments/${res.json().jobId}`,
    );
  });

  it('gives a new job to each request without an Idempotency-Key', async () => {
    api = testApi();
    const a = await api.call('admin', 'POST', url, body);
    const b = await api.call('admin', 'POST', url, body);
    expect(a.json().jobId).not.toBe(b.json().jobId);
    expect(api.queue.messages).toHaveLength(2);
  });
});

describe('Idempotency-Key', () => {
  it('derives the job id from the principal and the key', () => {
    const id = idempotentJobId(principals.admin, 'k1');
    expect(id).toMatch(new RegExp(jobIdPattern));
    expect(idempotentJobId(principals.admin, 'k1')).toBe(id);
    expect(idempotentJobId(principals.ci, 'k1')).not.toBe(id);
    expect(idempotentJobId(principals.admin, 'k2')).not.toBe(id);
  });

  it('returns the same job for a retry; re-sends while the record is still Queued', async () => {
    api = testApi();
    const headers = { 'idempotency-key': 'build-42' };
    const first = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    const retry = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(first.json().jobId).toBe(idempotentJobId(principals.admin, 'build-42'));
    // At-least-once: the worker treats the second message as a resume of the same record.
    expect(api.queue.messages.map((m) => m.jobId)).toEqual([
      first.json().jobId,
      first.json().jobId,
    ]);
  });

  it('the legacy route and v1 share keys: the same request is the same job', async () => {
    api = testApi();
    const headers = { 'idempotency-key': 'k-shared' };
    const a = await api.call('admin', 'POST', '/export-cert', legacyBody, headers);
    const b = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    expect(b.json().jobId).toBe(a.json().jobId);
  });

  it('answers 200 with the current status, sending nothing, once the worker has started', async () => {
    api = testApi();
    const headers = { 'idempotency-key': 'build-43' };
    const first = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    const record = await api.deployments.get(first.json().jobId);
    if (record === undefined) throw new Error('no record');
    await api.deployments.save({ ...record, status: 'Running', version: record.version + 1 });
    const retry = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual({ ...first.json(), status: 'Running' });
    expect(api.queue.messages).toHaveLength(1);
  });

  it('refuses the same key with a different request (409)', async () => {
    api = testApi();
    const headers = { 'idempotency-key': 'build-44' };
    await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    const res = await api.call(
      'admin',
      'POST',
      '/v1/deployments',
      { ...v1Body, certName: 'other' },
      headers,
    );
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(res.json().error.message).toMatch(/build-44.*different request/);
  });

  it('treats install options as part of the request', async () => {
    api = testApi();
    const headers = { 'idempotency-key': 'build-45' };
    await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    const res = await api.call(
      'admin',
      'POST',
      '/v1/deployments',
      { ...v1Body, install: { keyMode: '0600' } },
      headers,
    );
    expect(res.statusCode).toBe(409);
  });

  it('treats the canary as part of the request', async () => {
    api = testApi();
    const headers = { 'idempotency-key': 'build-46' };
    const canary = { ...v1Body, rollout: { canary: 2 } };
    expect((await api.call('admin', 'POST', '/v1/deployments', canary, headers)).statusCode).toBe(
      202,
    );
    expect((await api.call('admin', 'POST', '/v1/deployments', v1Body, headers)).statusCode).toBe(
      409,
    );
  });

  it('keys are per principal: the same key from another principal is another job', async () => {
    api = testApi();
    const headers = { 'idempotency-key': 'same' };
    const a = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    const b = await api.call('ci', 'POST', '/v1/deployments', v1Body, headers);
    expect(a.json().jobId).not.toBe(b.json().jobId);
  });

  it('rejects a malformed key', async () => {
    api = testApi();
    const res = await api.call('admin', 'POST', '/v1/deployments', v1Body, {
      'idempotency-key': 'x'.repeat(256),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ in: 'headers', field: '/idempotency-key' }],
    });
  });
});

describe('a canary', () => {
  it('travels from the request to the job, its message and its view', async () => {
    api = testApi();
    const res = await api.call('ci', 'POST', '/v1/deployments', {
      ...v1Body,
      rollout: { canary: 3 },
    });
    expect(res.statusCode).toBe(202);
    const { jobId } = res.json();
    expect(api.queue.messages[0]).toMatchObject({ jobId, rollout: { canary: 3 } });
    expect((await api.deployments.get(jobId))?.job.canary).toBe(3);
    const view = await api.call('ci', 'GET', `/v1/deployments/${jobId}`);
    expect(view.json().rollout).toEqual({ canary: 3 });
  });

  it.each([0, 51, 1.5, '2'])('refuses canary %j (1 to 50 servers)', async (canary) => {
    api = testApi();
    const res = await api.call('admin', 'POST', '/v1/deployments', {
      ...v1Body,
      rollout: { canary },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0]).toMatchObject({ in: 'body', field: '/rollout/canary' });
    expect(api.queue.messages).toHaveLength(0);
  });
});

describe('when the queue refuses the message', () => {
  it('answers 503; with a key the record stays Queued and a retry queues it', async () => {
    api = testApi();
    api.queue.failures = 1;
    const headers = { 'idempotency-key': 'flaky-1' };
    const failed = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    expect(failed.statusCode).toBe(503);
    expect(failed.json().error).toEqual({
      code: 'QUEUE_UNAVAILABLE',
      message: 'the job could not be queued; retry with the same Idempotency-Key',
      requestId: expect.any(String),
    });
    const jobId = idempotentJobId(principals.admin, 'flaky-1');
    expect((await api.deployments.get(jobId))?.status).toBe('Queued');
    const retry = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    expect(retry.statusCode).toBe(202);
    expect(retry.json().jobId).toBe(jobId);
    expect(api.queue.messages.map((m) => m.jobId)).toEqual([jobId]);
  });

  it('answers 503; without a key the record is marked Failed so nothing waits for it', async () => {
    api = testApi();
    api.queue.failures = 1;
    const res = await api.call('admin', 'POST', '/v1/deployments', v1Body);
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('QUEUE_UNAVAILABLE');
    const [record] = api.deployments.records.values();
    expect(record).toMatchObject({ status: 'Failed', version: 2 });
    expect(record?.reason).toMatch(/could not be put on the queue/);
    expect(res.body).not.toContain('SQS is down');
  });
});

describe('authorization of deployments', () => {
  it('lets a CI role deploy to the targets of its rule only', async () => {
    api = testApi();
    const dev = await api.call('ci', 'POST', '/v1/deployments', v1Body);
    expect(dev.statusCode).toBe(202);
    const dev2 = await api.call('ci', 'POST', '/v1/deployments', {
      ...v1Body,
      target: { key: 'env', value: 'dev-2' },
    });
    expect(dev2.statusCode).toBe(202);
    const prod = await api.call('ci', 'POST', '/v1/deployments', {
      ...v1Body,
      target: { key: 'env', value: 'prod' },
    });
    expect(prod.statusCode).toBe(403);
    expect(prod.json().error).toEqual({
      code: 'FORBIDDEN',
      message: `${principals.ci} is not allowed to deploy to env=prod`,
    });
    const otherKey = await api.call('ci', 'POST', '/v1/deployments', {
      ...v1Body,
      target: { key: 'team', value: 'dev' },
    });
    expect(otherKey.statusCode).toBe(403);
    expect(api.queue.messages).toHaveLength(2);
  });

  it('refuses a read-only principal before looking at the body', async () => {
    api = testApi();
    const res = await api.call('reader', 'POST', '/v1/deployments', { nonsense: true });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  });

  it('logs refusals with the principal', async () => {
    api = testApi();
    await api.call('ci', 'POST', '/v1/deployments', {
      ...v1Body,
      target: { key: 'env', value: 'prod' },
    });
    const line = api.logs.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith('forbidden'));
    expect(line).toMatchObject({ principal: principals.ci, target: { key: 'env', value: 'prod' } });
  });

  it('refuses certificates outside the allow-list (403 CERTIFICATE_NOT_ALLOWED)', async () => {
    api = testApi({
      config: { allowedCertificateArns: [certArn.replace(/[0-9a-f-]+$/, '1111*')] },
    });
    expect((await api.call('admin', 'POST', '/v1/deployments', v1Body)).statusCode).toBe(202);
    const res = await api.call('admin', 'POST', '/v1/deployments', {
      ...v1Body,
      certificateArn: otherCertArn,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('CERTIFICATE_NOT_ALLOWED');
    expect(api.deployments.records.size).toBe(1);
  });
});
