import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { legacyBody, principals, type TestApi, testApi, v1Body } from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

describe('deployments the operator’s policy refuses (400, naming the field, nothing queued)', () => {
  it.each([
    [
      'a target tag key the stack does not use (v1)',
      '/v1/deployments',
      { ...v1Body, target: { key: 'role', value: 'web' } },
      '/target/key',
      /"role" is not a target tag key of this service \(TARGET_TAG_KEYS: env, team\)/,
    ],
    [
      'a target tag key the stack does not use (original body)',
      '/export-cert',
      { ...legacyBody, TargetTagKey: 'role' },
      '/TargetTagKey',
      /"role" is not a target tag key/,
    ],
    [
      'a certificate of a region the service does not export from (v1)',
      '/v1/deployments',
      {
        ...v1Body,
        certificateArn:
          'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      },
      '/certificateArn',
      /is a certificate of eu-west-1, not a region this service exports from \(CERTIFICATE_REGIONS: us-east-1\)/,
    ],
    [
      'a certificate of a region the service does not export from (original body)',
      '/export-cert',
      {
        ...legacyBody,
        CertificateArn:
          'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      },
      '/CertificateArn',
      /is a certificate of eu-west-1/,
    ],
    [
      'a tag key AWS reserves',
      '/v1/deployments',
      { ...v1Body, target: { key: 'aws:ec2launchtemplate:id', value: 'lt-1' } },
      '/target/key',
      /reserved by AWS/,
    ],
    [
      'a reload command the operator did not allow',
      '/v1/deployments',
      { ...v1Body, install: { reloadCommand: '/bin/bash -i' } },
      '/install/reloadCommand',
      /is not one of this service's reload commands/,
    ],
    [
      'both PKCS#12 formats (one file, one profile)',
      '/v1/deployments',
      { ...v1Body, install: { formats: ['pkcs12-legacy', 'pkcs12'] } },
      '/install/formats',
      /names both pkcs12 and pkcs12-legacy: both write <certName>\.p12, choose one/,
    ],
  ])('refuses %s', async (_, url, body, field, problem) => {
    api = testApi();
    const res = await api.call('admin', 'POST', url, body);
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(problem);
    expect(error.details).toEqual([{ in: 'body', field, problem: expect.stringMatching(problem) }]);
    expect(api.queue.messages).toEqual([]);
    expect(api.deployments.records.size).toBe(0);
  });

  it('refuses a relative reload command by the schema, before any policy', async () => {
    api = testApi();
    const res = await api.call('admin', 'POST', '/v1/deployments', {
      ...v1Body,
      install: { reloadCommand: 'systemctl reload nginx' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe('/install/reloadCommand');
  });
});

describe('install options need their own permission', () => {
  it('refuses a deployer without install-options (403 naming each field), and queues nothing', async () => {
    api = testApi();
    const res = await api.call('ci', 'POST', '/v1/deployments', {
      ...v1Body,
      install: { keyMode: '640', reloadCommand: '/usr/sbin/nginx -s reload' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toEqual({
      code: 'FORBIDDEN',
      message: `${principals.ci} may deploy to env=dev but not set install options (keyMode, reloadCommand): that needs the "install-options" action`,
      details: [
        {
          in: 'body',
          field: '/install/keyMode',
          problem: 'needs the "install-options" action on this target',
        },
        {
          in: 'body',
          field: '/install/reloadCommand',
          problem: 'needs the "install-options" action on this target',
        },
      ],
    });
    expect(api.queue.messages).toEqual([]);
  });

  it('lets the same deployer deploy without options', async () => {
    api = testApi();
    expect((await api.call('ci', 'POST', '/v1/deployments', v1Body)).statusCode).toBe(202);
  });

  it('lets a principal with install-options set them, and queues them', async () => {
    api = testApi();
    const install = { keyMode: '640', reloadCommand: '/usr/sbin/nginx -s reload' };
    const res = await api.call('admin', 'POST', '/v1/deployments', { ...v1Body, install });
    expect(res.statusCode).toBe(202);
    expect(api.queue.messages[0]?.install).toEqual(install);
  });

  it('counts formats as an install option, and queues them in their one order', async () => {
    api = testApi();
    const formats = { formats: ['pkcs12', 'combined'] };
    const refused = await api.call('ci', 'POST', '/v1/deployments', {
      ...v1Body,
      install: formats,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.details[0].field).toBe('/install/formats');
    const res = await api.call('admin', 'POST', '/v1/deployments', { ...v1Body, install: formats });
    expect(res.statusCode).toBe(202);
    expect(api.queue.messages[0]?.install).toEqual({ formats: ['combined', 'pkcs12'] });
  });
});

describe('a request whose headers Node refuses', () => {
  it('gets the API’s own error shape for a 64 KiB Authorization header (431)', async () => {
    api = testApi();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = api.app.server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; type: string; body: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'GET',
            path: '/v1/certificates',
            headers: { authorization: `AcmCertExport ${'x'.repeat(64 * 1024)}` },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                type: String(res.headers['content-type']),
                body,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(answer.status).toBe(431);
    expect(answer.type).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({
      error: {
        code: 'HEADERS_TOO_LARGE',
        message: expect.stringMatching(/larger than 16 KiB.*Authorization header/),
      },
    });
  });
});
