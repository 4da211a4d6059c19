import { describe, expect, it } from 'vitest';
import { AuthenticationError, AuthUnavailableError } from '../../../src/auth/errors.ts';
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { parseCallerIdentity, stsReplay } from '../../../src/auth/sts-replay.ts';
import { encodeToken } from '../../../src/auth/token.ts';
import { ManualClock } from '../../support/fakes/aws-fakes.ts';
import { audience, errorXml, fakeSts, identityXml, now, signed, stsEndpoint } from './support.ts';

function setup(arn?: string) {
  const clock = new ManualClock(now.toISOString());
  const sts = fakeSts(arn);
  const auth = stsAuthenticator({
    audience,
    stsEndpoint,
    maxTokenAgeSeconds: 300,
    clock,
    fetch: sts.fetch,
  });
  return { clock, sts, auth };
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (error instanceof AuthenticationError) return error.reason;
    if (error instanceof AuthUnavailableError) return 'UNAVAILABLE';
    throw error;
  }
}

describe('replay to STS', () => {
  it('POSTs only to the configured endpoint, the exact body, no redirects, with a timeout', async () => {
    const { sts, auth } = setup();
    const token = encodeToken(await signed());
    const identity = await auth.authenticate({ authorization: token });
    expect(identity).toEqual({
      principal: 'arn:aws:iam::123456789012:user/alice',
      arn: 'arn:aws:iam::123456789012:user/alice',
      method: 'sts',
    });
    expect(sts.calls).toHaveLength(1);
    const [call] = sts.calls;
    expect(call?.url).toBe('https://sts.us-east-1.amazonaws.com/');
    expect(call?.init).toMatchObject({
      method: 'POST',
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      redirect: 'manual',
    });
    expect(call?.init.signal).toBeInstanceOf(AbortSignal);
    const headers = call?.init.headers as Record<string, string>;
    expect(headers.host).toBeUndefined();
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
  });

  it('canonicalises role sessions to their role', async () => {
    const { auth } = setup('arn:aws:sts::123456789012:assumed-role/deployer/pipeline-run-7');
    const identity = await auth.authenticate({ authorization: encodeToken(await signed()) });
    expect(identity).toEqual({
      principal: 'arn:aws:iam::123456789012:role/deployer',
      arn: 'arn:aws:sts::123456789012:assumed-role/deployer/pipeline-run-7',
      method: 'sts',
    });
  });

  it.each([
    ['403 SignatureDoesNotMatch', 403, errorXml('SignatureDoesNotMatch'), 'STS_REJECTED'],
    ['403 InvalidClientTokenId', 403, errorXml('InvalidClientTokenId'), 'STS_REJECTED'],
    ['400 ExpiredToken', 400, errorXml('ExpiredToken'), 'STS_REJECTED'],
    ['400 Throttling', 400, errorXml('Throttling'), 'UNAVAILABLE'],
    ['500', 500, 'oops', 'UNAVAILABLE'],
    ['302 to elsewhere', 302, '', 'UNAVAILABLE'],
    ['200 with garbage', 200, '<html>hi</html>', 'UNAVAILABLE'],
  ])('maps STS %s', async (_name, status, body, reason) => {
    const { sts, auth } = setup();
    sts.respond = () =>
      new Response(body, {
        status,
        headers: status === 302 ? { location: 'http://169.254.169.254/' } : {},
      });
    expect(await reasonOf(auth.authenticate({ authorization: encodeToken(await signed()) }))).toBe(
      reason,
    );
    expect(sts.calls).toHaveLength(1);
  });

  it('refuses a response larger than the cap', async () => {
    const replay = stsReplay({
      endpoint: stsEndpoint,
      maxResponseBytes: 1024,
      fetch: (async () =>
        new Response(
          identityXml('arn:aws:iam::123456789012:user/a') + ' '.repeat(2000),
        )) as typeof fetch,
    });
    await expect(replay({}, 'AKIA')).rejects.toBeInstanceOf(AuthUnavailableError);
  });

  it('gives up after the timeout', async () => {
    const replay = stsReplay({
      endpoint: stsEndpoint,
      timeoutMs: 50,
      fetch: ((_url: string, init: RequestInit) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        })) as unknown as typeof fetch,
    });
    await expect(replay({}, 'AKIA')).rejects.toThrow(/could not be reached/);
  });

  it.each([
    [
      'two results',
      `${identityXml('arn:aws:iam::123456789012:user/a')}${identityXml('arn:aws:iam::123456789012:user/b')}`,
    ],
    ['an ARN with markup', identityXml('arn:aws:iam::123456789012:user/a&amp;b')],
    [
      'an account that differs from the ARN',
      identityXml('arn:aws:iam::123456789012:user/a', '210987654321'),
    ],
    ['not an ARN', identityXml('alice')],
    [
      'another document',
      '<Other><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/a</Arn></GetCallerIdentityResult></Other>',
    ],
  ])('parses the STS answer strictly: refuses %s', (_name, xml) => {
    expect(() => parseCallerIdentity(xml)).toThrow(AuthUnavailableError);
  });
});

describe('caching', () => {
  it('asks STS once per token while it is valid, and again never after it expires', async () => {
    const { sts, auth, clock } = setup();
    const token = encodeToken(await signed());
    for (let i = 0; i < 5; i++) await auth.authenticate({ authorization: token });
    expect(sts.calls).toHaveLength(1);
    expect(auth.stats()).toMatchObject({ stsCalls: 1, cacheHits: 4 });
    clock.advance(299_000);
    await auth.authenticate({ authorization: token });
    expect(sts.calls).toHaveLength(1);
    clock.advance(1_000); // X-Amz-Date + 300 s: the token is no longer valid, cached or not
    expect(await reasonOf(auth.authenticate({ authorization: token }))).toBe('TOKEN_EXPIRED');
    expect(sts.calls).toHaveLength(1);
  });

  it('verifies concurrent requests with the same token with one STS call', async () => {
    const { sts, auth } = setup();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    sts.respond = async () => {
      await gate;
      return new Response(identityXml('arn:aws:iam::123456789012:user/alice'));
    };
    const token = encodeToken(await signed());
    const all = Promise.all(
      Array.from({ length: 10 }, () => auth.authenticate({ authorization: token })),
    );
    release();
    const identities = await all;
    expect(new Set(identities.map((i) => i.principal)).size).toBe(1);
    expect(sts.calls).toHaveLength(1);
  });

  it('does not cache failures', async () => {
    const { sts, auth } = setup();
    sts.respond = () => new Response(errorXml('SignatureDoesNotMatch'), { status: 403 });
    const token = encodeToken(await signed());
    expect(await reasonOf(auth.authenticate({ authorization: token }))).toBe('STS_REJECTED');
    sts.respond = () => new Response(identityXml('arn:aws:iam::123456789012:user/alice'));
    expect(await reasonOf(auth.authenticate({ authorization: token }))).toBe('accepted');
    expect(sts.calls).toHaveLength(2);
  });

  it('a token signed a while ago is cached only for what remains of its validity', async () => {
    const { sts, auth, clock } = setup();
    const token = encodeToken(await signed({}, { signingDate: new Date(now.getTime() - 290_000) }));
    await auth.authenticate({ authorization: token });
    clock.advance(10_000);
    expect(await reasonOf(auth.authenticate({ authorization: token }))).toBe('TOKEN_EXPIRED');
    expect(sts.calls).toHaveLength(1);
  });

  it('keeps at most cacheSize entries', async () => {
    const clock = new ManualClock(now.toISOString());
    const sts = fakeSts();
    const auth = stsAuthenticator({
      audience,
      stsEndpoint,
      maxTokenAgeSeconds: 300,
      clock,
      fetch: sts.fetch,
      cacheSize: 2,
    });
    const tokens = await Promise.all(
      [0, 1, 2].map(async (i) =>
        encodeToken(await signed({}, { signingDate: new Date(now.getTime() - i * 1000) })),
      ),
    );
    for (const token of tokens) await auth.authenticate({ authorization: token });
    expect(auth.stats().cached).toBe(2);
  });

  it('never contacts STS for tokens that fail the local checks', async () => {
    const { sts, auth } = setup();
    const bad = [
      await signed({ includeAudience: false }),
      await signed({ signAudience: false }),
      await signed({}, { audience: 'other' }),
      await signed({ host: 'evil.example.com' }),
      await signed({ body: 'Action=AssumeRole&Version=2011-06-15' }),
      await signed({}, { signingDate: new Date(now.getTime() - 3600_000) }),
    ];
    for (const parts of bad) {
      expect(await reasonOf(auth.authenticate({ authorization: encodeToken(parts) }))).not.toBe(
        'accepted',
      );
    }
    expect(await reasonOf(auth.authenticate({ authorization: undefined }))).toBe('MISSING_TOKEN');
    expect(sts.calls).toHaveLength(0);
  });
});
