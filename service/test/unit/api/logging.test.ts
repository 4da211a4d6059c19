import { afterEach, describe, expect, it } from 'vitest';
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { encodeToken } from '../../../src/auth/token.ts';
import { ManualClock } from '../../support/fakes/aws-fakes.ts';
import { errorXml, fakeSts, now, signed } from '../auth/support.ts';
import { type TestApi, testApi, v1Body } from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

describe('logs', () => {
  it('never contain a token or its signature, accepted or refused, at trace level', async () => {
    const clock = new ManualClock(now.toISOString());
    const sts = fakeSts('arn:aws:iam::123456789012:role/admin');
    api = testApi({
      authenticator: stsAuthenticator({
        audience: 'acm-cert-export',
        stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
        maxTokenAgeSeconds: 300,
        clock,
        fetch: sts.fetch,
      }),
    });
    const good = await signed();
    const goodToken = encodeToken(good);
    const accepted = await api.app.inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: { authorization: goodToken },
      payload: v1Body,
    });
    expect(accepted.statusCode).toBe(202);

    sts.respond = () => new Response(errorXml('SignatureDoesNotMatch'), { status: 403 });
    const other = await signed({}, { signingDate: new Date(now.getTime() - 1000) });
    const refusedToken = encodeToken(other);
    const refused = await api.app.inject({
      method: 'GET',
      url: '/v1/certificates',
      headers: { authorization: refusedToken },
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'STS_REJECTED' });

    // Also what a careless log call would write: a whole headers object.
    api.app.log.info({ request: { headers: { authorization: goodToken } } }, 'careless');

    const log = api.logs.join('\n');
    expect(api.logs.length).toBeGreaterThan(4);
    for (const secret of [
      goodToken,
      goodToken.slice(14, 80),
      refusedToken.slice(14, 80),
      good.headers.authorization ?? 'x',
      (good.headers.authorization ?? '').slice(-64),
      (other.headers.authorization ?? '').slice(-64),
    ]) {
      expect(log).not.toContain(secret);
    }
    expect(log).toContain('[REDACTED]');
    // ...while 401s are logged with what helps: the reason and the access key id.
    expect(log).toContain('"reason":"STS_REJECTED"');
    expect(log).toContain('"accessKeyId":"AKIAIOSFODNN7EXAMPLE"');
  });

  it('redacts passphrases and private keys in any object logged through the app', async () => {
    api = testApi();
    await api.app.ready();
    api.app.log.info(
      {
        job: { passphrase: 'p-secret-1', Passphrase: 'p-secret-2' },
        bundle: { privateKey: 'k-secret-1', PrivateKey: 'k-secret-2' },
      },
      'careless',
    );
    const log = api.logs.join('\n');
    for (const secret of ['p-secret-1', 'p-secret-2', 'k-secret-1', 'k-secret-2']) {
      expect(log).not.toContain(secret);
    }
  });
});
