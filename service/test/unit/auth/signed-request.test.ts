import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../../src/auth/errors.ts';
import { checkSignedRequest } from '../../../src/auth/signed-request.ts';
import {
  audienceHeader,
  callerIdentityBody,
  decodeToken,
  encodeToken,
  maxTokenLength,
  type SignedRequestParts,
} from '../../../src/auth/token.ts';
import { audience, now, signed } from './support.ts';

const policy = {
  audience,
  stsHost: 'sts.us-east-1.amazonaws.com',
  maxTokenAgeSeconds: 300,
  maxFutureSkewSeconds: 60,
  now,
};

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AuthenticationError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('token encoding', () => {
  it('round-trips signed request parts through the Authorization header value', async () => {
    const parts = await signed();
    const header = encodeToken(parts);
    expect(header).toMatch(/^AcmCertExport [A-Za-z0-9_-]+$/);
    expect(decodeToken(header)).toEqual(parts);
    expect(decodeToken(header.replace('AcmCertExport', 'acmcertexport'))).toEqual(parts);
  });

  it.each([
    ['missing', undefined, 'MISSING_TOKEN'],
    ['empty', '  ', 'MISSING_TOKEN'],
    ['oversized', `AcmCertExport ${'A'.repeat(maxTokenLength)}`, 'TOKEN_TOO_LARGE'],
    ['another scheme', 'Bearer abc', 'MALFORMED_TOKEN'],
    ['an AWS SigV4 header', 'AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=1', 'MALFORMED_TOKEN'],
    ['not base64 JSON', 'AcmCertExport bm90IGpzb24', 'MALFORMED_TOKEN'],
    ['a JSON array', `AcmCertExport ${Buffer.from('[]').toString('base64url')}`, 'MALFORMED_TOKEN'],
  ])('refuses %s', (_name, header, reason) => {
    expect(reasonOf(() => decodeToken(header))).toBe(reason);
  });

  it.each([
    [
      'a url field (the service never takes a destination from a token)',
      { url: 'https://evil.example/' },
    ],
    ['another version', { v: 2 }],
    ['another method', { method: 'GET' }],
    ['a non-string header', { headers: { host: 1 } }],
    ['a header with a newline', { headers: { 'x-amz-date': 'a\r\nb' } }],
    ['repeated headers in two cases', { headers: { Host: 'a', host: 'b' } }],
  ])('refuses a token with %s', (_name, change) => {
    const json = { v: 1, method: 'POST', headers: {}, body: callerIdentityBody, ...change };
    const header = `AcmCertExport ${Buffer.from(JSON.stringify(json)).toString('base64url')}`;
    expect(reasonOf(() => decodeToken(header))).toBe('MALFORMED_TOKEN');
  });
});

describe('checks before STS is asked', () => {
  it('accepts a fresh, well-formed token and says when it expires', async () => {
    const checked = checkSignedRequest(await signed(), policy);
    expect(checked.accessKeyId).toBe('AKIAIOSFODNN7EXAMPLE');
    expect(checked.signedAt).toEqual(new Date('2026-11-27T12:00:00.000Z'));
    expect(checked.expiresAt).toEqual(new Date('2026-11-27T12:05:00.000Z'));
    expect(Object.keys(checked.replayHeaders).sort()).toEqual([
      'authorization',
      'content-type',
      audienceHeader,
      'x-amz-content-sha256',
      'x-amz-date',
    ]);
  });

  it('replays the session token of temporary credentials', async () => {
    const { signCallerIdentity } = await import('../../../src/auth/token-client.ts');
    const parts = await signCallerIdentity({
      credentials: {
        accessKeyId: 'ASIAEXAMPLE12345',
        secretAccessKey: 's',
        sessionToken: 'FwoG...',
      },
      stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
      audience,
      signingDate: now,
    });
    expect(checkSignedRequest(parts, policy).replayHeaders['x-amz-security-token']).toBe('FwoG...');
  });

  const cases: [string, () => Promise<SignedRequestParts>, Partial<typeof policy>?][] = [
    ['WRONG_ACTION', () => signed({ body: 'Action=GetSessionToken&Version=2011-06-15' })],
    ['WRONG_ACTION', () => signed({ body: 'Action=GetCallerIdentity&Version=2011-06-15&Extra=1' })],
    ['WRONG_ACTION', () => signed({ body: 'Version=2011-06-15&Action=GetCallerIdentity' })],
    ['WRONG_HOST', () => signed({ host: '127.0.0.1:9999' })],
    ['WRONG_HOST', () => signed({}, { endpoint: 'https://sts.eu-west-1.amazonaws.com' })],
    ['AUDIENCE_MISSING', () => signed({ includeAudience: false })],
    ['AUDIENCE_NOT_SIGNED', () => signed({ signAudience: false })],
    ['AUDIENCE_MISMATCH', () => signed({}, { audience: 'another-service' })],
    ['TOKEN_EXPIRED', () => signed({}, { signingDate: new Date(now.getTime() - 301_000) })],
    ['TOKEN_EXPIRED', () => signed({}, { signingDate: new Date(now.getTime() + 61_000) })],
    ['accepted', () => signed({}, { signingDate: new Date(now.getTime() - 299_000) })],
    ['accepted', () => signed({}, { signingDate: new Date(now.getTime() + 59_000) })],
    [
      'MALFORMED_TOKEN',
      async () => {
        const p = await signed();
        const { authorization: _a, ...headers } = p.headers;
        return { ...p, headers };
      },
    ],
    [
      'MALFORMED_TOKEN',
      async () => {
        const p = await signed();
        return { ...p, headers: { ...p.headers, 'x-forwarded-host': 'evil' } };
      },
    ],
    [
      'MALFORMED_TOKEN',
      async () => {
        const p = await signed();
        const authorization = (p.headers.authorization ?? '').replace('/sts/', '/s3/');
        return { ...p, headers: { ...p.headers, authorization } };
      },
    ],
    [
      'MALFORMED_TOKEN',
      async () => {
        const p = await signed();
        const authorization = (p.headers.authorization ?? '').replace(
          'SignedHeaders=',
          'SignedHeaders=connection;',
        );
        return { ...p, headers: { ...p.headers, connection: 'close', authorization } };
      },
    ],
  ];
  it.each(cases)('%s', async (reason, make) => {
    const parts = await make();
    expect(reasonOf(() => checkSignedRequest(parts, policy))).toBe(reason);
  });

  it('tells the caller which STS host to sign for', async () => {
    const parts = await signed({}, { endpoint: 'https://sts.eu-west-1.amazonaws.com' });
    expect(() => checkSignedRequest(parts, policy)).toThrow(
      /signed for host "sts.eu-west-1.amazonaws.com".*"sts.us-east-1.amazonaws.com"/,
    );
  });
});
