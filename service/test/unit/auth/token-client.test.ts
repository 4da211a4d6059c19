import { describe, expect, it } from 'vitest';
import { decodeToken } from '../../../src/auth/token.ts';
import {
  createAuthToken,
  defaultStsEndpoint,
  regionOfStsEndpoint,
  signCallerIdentity,
} from '../../../src/auth/token-client.ts';
import { audience, credentials, now } from './support.ts';

describe('token client', () => {
  it('uses the regional STS endpoint unless one is configured the SDK way', () => {
    expect(defaultStsEndpoint('eu-west-1')).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(defaultStsEndpoint('cn-north-1')).toBe('https://sts.cn-north-1.amazonaws.com.cn');
    expect(defaultStsEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000/' })).toBe(
      'http://127.0.0.1:5000',
    );
    expect(
      defaultStsEndpoint('eu-west-1', {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
        AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:6000',
      }),
    ).toBe('http://127.0.0.1:6000');
  });

  it('derives the signing region from a standard endpoint', () => {
    expect(regionOfStsEndpoint('https://sts.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(regionOfStsEndpoint('https://sts.amazonaws.com')).toBe('us-east-1');
    expect(regionOfStsEndpoint('https://sts-fips.us-gov-west-1.amazonaws.com')).toBe(
      'us-gov-west-1',
    );
    expect(regionOfStsEndpoint('http://127.0.0.1:5000')).toBeUndefined();
  });

  it('signs host, audience, date and body, for the endpoint given (port included)', async () => {
    const parts = await signCallerIdentity({
      credentials: async () => credentials,
      stsEndpoint: 'http://127.0.0.1:5000',
      region: 'us-east-1',
      audience,
      signingDate: now,
    });
    expect(parts.headers.host).toBe('127.0.0.1:5000');
    expect(parts.headers['x-acm-cert-export-server-id']).toBe(audience);
    expect(parts.headers['x-amz-date']).toBe('20261127T120000Z');
    expect(parts.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20261127\/us-east-1\/sts\/aws4_request, SignedHeaders=content-type;host;x-acm-cert-export-server-id;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(parts.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
  });

  it('needs a region for a non-standard endpoint', async () => {
    await expect(
      signCallerIdentity({ credentials, stsEndpoint: 'http://localhost:1', audience }),
    ).rejects.toThrow(/signing region/);
  });

  it('produces the header value the service decodes', async () => {
    const header = await createAuthToken({
      credentials,
      stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
      audience,
      signingDate: now,
    });
    expect(header.length).toBeLessThan(2048);
    expect(decodeToken(header).headers.host).toBe('sts.us-east-1.amazonaws.com');
  });
});
