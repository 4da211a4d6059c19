import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../../src/cli/api-client.ts';
import { CliError } from '../../../src/cli/errors.ts';

function scripted(responses: (() => Response)[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (url: string | URL | Request, init: RequestInit = {}) => {
    calls.push({ url: String(url), init });
    const next = responses.shift();
    if (next === undefined) throw new Error('no more responses');
    return next();
  }) as typeof fetch;
  return { fetch: fetchFn, calls };
}

const json = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('API client', () => {
  it('keeps a base path (API Gateway stage) and sends JSON with the token', async () => {
    const s = scripted([json(200, { ok: true })]);
    const client = new ApiClient({
      baseUrl: 'https://abc.execute-api.us-east-1.amazonaws.com/prod/',
      authorize: async () => ({ authorization: 'AcmCertExport t' }),
      fetch: s.fetch,
    });
    expect((await client.request('POST', '/v1/deployments', { body: { a: 1 } })).body).toEqual({
      ok: true,
    });
    expect(s.calls[0]?.url).toBe(
      'https://abc.execute-api.us-east-1.amazonaws.com/prod/v1/deployments',
    );
    expect(s.calls[0]?.init.headers).toMatchObject({
      authorization: 'AcmCertExport t',
      'content-type': 'application/json',
    });
  });

  it('asks for a fresh token once when the service says the token expired', async () => {
    const s = scripted([
      json(401, { error: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED', message: 'old' } }),
      json(200, {}),
    ]);
    const asked: boolean[] = [];
    const client = new ApiClient({
      baseUrl: 'http://api.test',
      authorize: async (_request, fresh) => {
        asked.push(fresh);
        return { authorization: 'AcmCertExport t' };
      },
      fetch: s.fetch,
    });
    await client.request('GET', '/v1/certificates');
    expect(asked).toEqual([false, true]);
  });

  it('retries 503 and network errors, then gives up with the API’s message', async () => {
    const s = scripted([
      () => {
        throw new TypeError('fetch failed');
      },
      json(503, { error: { code: 'QUEUE_UNAVAILABLE', message: 'retry' } }),
      json(503, { error: { code: 'QUEUE_UNAVAILABLE', message: 'retry' } }),
    ]);
    const slept: number[] = [];
    const client = new ApiClient({
      baseUrl: 'http://api.test',
      authorize: async () => ({ authorization: 't' }),
      fetch: s.fetch,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    const error = await client.request('GET', '/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('QUEUE_UNAVAILABLE: retry');
    expect(slept).toEqual([500, 1000]);
  });

  it('does not retry other errors', async () => {
    const s = scripted([json(404, { error: { code: 'DEPLOYMENT_NOT_FOUND', message: 'no' } })]);
    const client = new ApiClient({
      baseUrl: 'http://api.test',
      authorize: async () => ({ authorization: 't' }),
      fetch: s.fetch,
    });
    await expect(client.request('GET', '/x')).rejects.toMatchObject({
      code: 'DEPLOYMENT_NOT_FOUND',
    });
    expect(s.calls).toHaveLength(1);
  });
});

describe('--auth sigv4 (API Gateway with AWS_IAM, Lambda mode)', () => {
  it('signs each request for execute-api instead of sending a token', async () => {
    const { signForApiGateway } = await import('../../../src/cli/sigv4.ts');
    const headers = await signForApiGateway(
      {
        method: 'GET',
        url: new URL(
          'https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1/certificates?limit=5',
        ),
        headers: { accept: 'application/json' },
      },
      {
        credentials: {
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          secretAccessKey: 's',
          sessionToken: 'tok',
        },
        region: 'eu-west-1',
        signingDate: new Date('2026-11-27T12:00:00Z'),
      },
    );
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20261127\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('tok');
    expect(headers.host).toBeUndefined();
  });
});
