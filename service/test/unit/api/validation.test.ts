import { afterEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/messages/parse-message.ts';
import { certArn, legacyBody, type TestApi, testApi, v1Body } from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

describe('request validation', () => {
  it('names every field that is wrong and what was expected', async () => {
    api = testApi();
    const res = await api.call('admin', 'POST', '/v1/deployments', {
      certificateArn: 'arn:aws:acm:us-east-1:1:certificate/x',
      certName: '-bad',
      target: { key: 'env' },
      colour: 'blue',
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/^body \/\S+ /);
    expect(error.details).toEqual(
      expect.arrayContaining([
        { in: 'body', field: '/colour', problem: 'is not allowed' },
        { in: 'body', field: '/target/value', problem: 'is required' },
        {
          in: 'body',
          field: '/certificateArn',
          problem: expect.stringMatching(/^must match pattern .*\(ACM certificate ARN\)$/),
        },
        {
          in: 'body',
          field: '/certName',
          problem: expect.stringMatching(/must match pattern .*Certificate name used in/),
        },
      ]),
    );
    expect(api.queue.messages).toHaveLength(0);
  });

  it('reports missing fields of the original body', async () => {
    api = testApi();
    const res = await api.call('admin', 'POST', '/export-cert', { CertificateArn: certArn });
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['/CertName', '/TargetTagKey', '/TargetTagValue']);
  });

  it('applies the worker’s extra file-name check (no "..")', async () => {
    api = testApi();
    const res = await api.call('admin', 'POST', '/v1/deployments', { ...v1Body, certName: 'a..b' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ in: 'body', field: '/certName' }],
    });
  });

  it.each([
    ['invalid JSON', '{"certName":', 'application/json', 400, 'INVALID_JSON'],
    ['an empty body', '', 'application/json', 400, 'INVALID_JSON'],
    ['a JSON array', '[]', 'application/json', 400, 'VALIDATION_FAILED'],
    ['text/plain', JSON.stringify(v1Body), 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['form data', 'a=b', 'application/x-www-form-urlencoded', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'a __proto__ key',
      '{"__proto__":{"x":1},"certName":"a"}',
      'application/json',
      400,
      'INVALID_JSON',
    ],
  ])('answers %s with a stable code', async (_name, payload, contentType, status, code) => {
    api = testApi();
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: { authorization: 'AcmCertExport admin', 'content-type': contentType },
      payload,
    });
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
  });

  it('refuses a body over the configured limit with 413', async () => {
    api = testApi({
      config: {
        api: { enabled: true, host: '127.0.0.1', port: 0, bodyLimit: 1024, deadlineSeconds: 25 },
      },
    });
    const res = await api.call('admin', 'POST', '/v1/deployments', {
      ...v1Body,
      padding: 'x'.repeat(2000),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      message: 'the body is larger than 1024 bytes',
    });
  });

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    api = testApi();
    const res = await api.call(undefined, 'GET', '/v2/nothing?x=1');
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toEqual({ code: 'NOT_FOUND', message: 'no route GET /v2/nothing' });
  });

  it('validates query strings with conversion (limit=10) and bounds', async () => {
    api = testApi();
    expect((await api.call('admin', 'GET', '/v1/certificates?limit=10')).statusCode).toBe(200);
    const res = await api.call('admin', 'GET', '/v1/certificates?limit=1000');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0]).toMatchObject({ in: 'query', field: '/limit' });
    const unknown = await api.call('admin', 'GET', '/v1/certificates?colour=1');
    expect(unknown.statusCode).toBe(400);
  });
});

describe('one schema for the API and the worker', () => {
  const v1Cases: [string, unknown][] = [
    ['valid', v1Body],
    [
      'with install options',
      { ...v1Body, install: { keyMode: '0640', reloadCommand: '/usr/bin/systemctl reload nginx' } },
    ],
    ['bad key mode', { ...v1Body, install: { keyMode: '0777' } }],
    ['with formats', { ...v1Body, install: { formats: ['combined', 'pkcs12'] } }],
    ['with no formats', { ...v1Body, install: { formats: [] } }],
    ['unknown format', { ...v1Body, install: { formats: ['jks'] } }],
    ['a format twice', { ...v1Body, install: { formats: ['combined', 'combined'] } }],
    ['formats as a string', { ...v1Body, install: { formats: 'combined,pkcs12' } }],
    ['shell in reload command', { ...v1Body, install: { reloadCommand: 'x; rm -rf /' } }],
    ['unknown field', { ...v1Body, extra: 1 }],
    ['unknown install field', { ...v1Body, install: { mode: '1' } }],
    ['dots', { ...v1Body, certName: 'a..b' }],
    ['tag value with slash', { ...v1Body, target: { key: 'env', value: 'a/b' } }],
    ['tag key with quote', { ...v1Body, target: { key: 'e"nv', value: 'dev' } }],
    ['empty tag value', { ...v1Body, target: { key: 'env', value: '' } }],
    ['long cert name', { ...v1Body, certName: 'a'.repeat(65) }],
    ['number as name', { ...v1Body, certName: 7 }],
  ];
  const legacyCases: [string, unknown][] = [
    ['valid', legacyBody],
    ['bad arn', { ...legacyBody, CertificateArn: 'arn:aws:acm:::certificate/x' }],
    ['unknown field', { ...legacyBody, Extra: true }],
    ['dots', { ...legacyBody, CertName: '..' }],
  ];

  it.each(v1Cases)('v1 body: %s', async (_name, body) => {
    api = testApi();
    const res = await api.call('admin', 'POST', '/v1/deployments', body);
    const worker = parseMessage(
      JSON.stringify({ type: 'deploy', version: 1, ...(body as object) }),
    );
    expect(res.statusCode === 202).toBe(worker.kind === 'deploy');
  });

  it.each(legacyCases)('original body: %s', async (_name, body) => {
    api = testApi();
    const res = await api.call('admin', 'POST', '/export-cert', body);
    const worker = parseMessage(JSON.stringify(body));
    expect(res.statusCode === 202).toBe(worker.kind === 'deploy');
  });

  it('every message the API queues is one the worker accepts', async () => {
    api = testApi();
    await api.call('admin', 'POST', '/v1/deployments', {
      ...v1Body,
      install: { certDir: '/etc/ssl/x', owner: 'nginx' },
    });
    await api.call('admin', 'POST', '/export-cert', legacyBody);
    for (const message of api.queue.messages) {
      expect(parseMessage(JSON.stringify(message))).toEqual({ kind: 'deploy', message });
    }
  });
});
