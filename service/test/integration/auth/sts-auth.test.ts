import { createServer, type Server } from 'node:net';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { encodeToken } from '../../../src/auth/token.ts';
import {
  type AwsCredentials,
  createAuthToken,
  signCallerIdentity,
  type TokenTamper,
} from '../../../src/auth/token-client.ts';
import { clientOptions } from '../../../src/aws/clients.ts';
import type { PrincipalRule } from '../../../src/config/config.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { testClients } from '../../support/aws.ts';
import { motoEndpoint } from '../../support/bed-lane.ts';
import { anIamUser, type IamUser } from '../../support/builders/iam-users.ts';
import { certArn, type TestApi, testApi, v1Body } from '../../unit/api/support/harness.ts';

/**
 * Container-mode authentication against the emulator's STS with signature checking on
 * (`/moto-api/reset-auth`): every request moto receives after setup must carry a valid SigV4
 * signature of a known IAM user or role session. Users, keys and the role session are made
 * first with the default credentials; auth checking is switched off again at the end.
 */

const endpoint = motoEndpoint();
const audience = 'acm-cert-export';
const account = '123456789012';

let api: TestApi;
let baseUrl: string;
let alice: IamUser;
let bob: IamUser;
/** Used by the STS cache test only: no other test's token can be its token. */
let carol: IamUser;
let mallory: IamUser;
let session: AwsCredentials;
let sessionArn: string | undefined;
let foreign: Server;
let foreignPort: number;
let foreignConnections = 0;
let stsCalls = 0;

const rules = (): PrincipalRule[] => [
  { principal: alice.arn, actions: ['read', 'deploy'], targets: ['env=dev'] },
  { principal: `arn:aws:iam::${account}:user/bob`, actions: ['read'], targets: [] },
  { principal: `arn:aws:iam::${account}:user/carol`, actions: ['read'], targets: [] },
  {
    principal: `arn:aws:iam::${account}:role/deployer`,
    actions: ['deploy'],
    targets: ['env=dev*'],
  },
];

async function resetAuth(count: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: count });
  if (!res.ok) throw new Error(`reset-auth failed: HTTP ${res.status}`);
}

beforeAll(async () => {
  const { iam, config } = testClients();
  alice = await anIamUser(iam, { userName: 'alice' });
  bob = await anIamUser(iam, { userName: 'bob' });
  carol = await anIamUser(iam, { userName: 'carol' });
  mallory = await anIamUser(iam, { userName: 'mallory' });
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'deployer',
      Path: '/ci/',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  const sts = new STSClient(clientOptions(config, 'sts'));
  const assumed = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/ci/deployer`,
      RoleSessionName: 'pipeline-run-42',
    }),
  );
  const c = assumed.Credentials;
  if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined) {
    throw new Error('AssumeRole returned no credentials');
  }
  session = {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    ...(c.SessionToken === undefined ? {} : { sessionToken: c.SessionToken }),
  };

  foreign = createServer((socket) => {
    foreignConnections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  const address = foreign.address();
  foreignPort = typeof address === 'object' && address !== null ? address.port : 0;

  api = testApi({
    config: {
      auth: {
        mode: 'sts',
        audience,
        stsEndpoint: endpoint,
        maxTokenAgeSeconds: 300,
        principals: rules(),
      },
    },
    authenticator: stsAuthenticator({
      audience,
      stsEndpoint: endpoint,
      maxTokenAgeSeconds: 300,
      clock: systemClock,
      fetch: (async (url: string | URL | Request, init?: RequestInit) => {
        stsCalls += 1;
        return fetch(url, init);
      }) as typeof fetch,
    }),
  });
  // The ManualClock of the harness is for the app's records; tokens are checked at real time.
  baseUrl = await api.app.listen({ host: '127.0.0.1', port: 0 });

  // From here on moto checks every signature.
  await resetAuth('0');
  sessionArn = (
    await new STSClient({ ...clientOptions(config, 'sts'), credentials: session }).send(
      new GetCallerIdentityCommand({}),
    )
  ).Arn;
});

afterAll(async () => {
  await resetAuth('inf');
  await api?.app.close();
  await new Promise<void>((resolve) => (foreign ? foreign.close(() => resolve()) : resolve()));
});

function tokenFor(
  credentials: AwsCredentials,
  tamper: TokenTamper = {},
  options: { signingDate?: Date; audience?: string; stsEndpoint?: string } = {},
): Promise<string> {
  return signCallerIdentity(
    {
      credentials,
      stsEndpoint: options.stsEndpoint ?? endpoint,
      region: 'us-east-1',
      audience: options.audience ?? audience,
      ...(options.signingDate === undefined ? {} : { signingDate: options.signingDate }),
    },
    tamper,
  ).then(encodeToken);
}

interface Answer {
  status: number;
  json: { error?: { code: string; reason?: string } } & Record<string, unknown>;
}

async function call(
  method: string,
  path: string,
  authorization: string | undefined,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Answer['json'] };
}

async function refused(authorization: string | undefined) {
  const before = stsCalls;
  const res = await call('GET', '/v1/certificates', authorization);
  expect(res.status).toBe(401);
  expect(res.json.error?.code).toBe('UNAUTHENTICATED');
  return { reason: res.json.error?.reason, stsCalls: stsCalls - before };
}

describe('STS replay against the emulator with signature checking on', () => {
  it('accepts a valid caller and records the ARN STS returned as the requester', async () => {
    const token = await createAuthToken({
      credentials: alice.credentials,
      stsEndpoint: endpoint,
      region: 'us-east-1',
      audience,
    });
    const res = await call('POST', '/v1/deployments', token, v1Body);
    expect(res.status).toBe(202);
    expect(api.queue.messages.at(-1)?.requester).toBe(`arn:aws:iam::${account}:user/alice`);
    expect((await call('GET', '/v1/certificates', token)).status).toBe(200);
  });

  it('refuses an unsigned request before STS', async () => {
    const token = await tokenFor(alice.credentials);
    const parts = JSON.parse(Buffer.from(token.split(' ')[1] ?? '', 'base64url').toString());
    delete parts.headers.authorization;
    const unsigned = `AcmCertExport ${Buffer.from(JSON.stringify(parts)).toString('base64url')}`;
    expect(await refused(unsigned)).toEqual({ reason: 'MALFORMED_TOKEN', stsCalls: 0 });
    expect(await refused(undefined)).toEqual({ reason: 'MISSING_TOKEN', stsCalls: 0 });
  });

  it('refuses a forged signature: STS says no', async () => {
    const token = await tokenFor(alice.credentials);
    const parts = JSON.parse(Buffer.from(token.split(' ')[1] ?? '', 'base64url').toString());
    parts.headers.authorization = parts.headers.authorization.replace(
      /Signature=[0-9a-f]{64}/,
      `Signature=${'0'.repeat(64)}`,
    );
    const forged = `AcmCertExport ${Buffer.from(JSON.stringify(parts)).toString('base64url')}`;
    expect(await refused(forged)).toEqual({ reason: 'STS_REJECTED', stsCalls: 1 });
  });

  it('refuses a token signed with the wrong secret', async () => {
    const token = await tokenFor({ ...alice.credentials, secretAccessKey: 'not-the-secret' });
    expect(await refused(token)).toEqual({ reason: 'STS_REJECTED', stsCalls: 1 });
  });

  it('refuses a stale token (signed 10 minutes ago) without asking STS', async () => {
    const token = await tokenFor(
      alice.credentials,
      {},
      {
        signingDate: new Date(Date.now() - 600_000),
      },
    );
    expect(await refused(token)).toEqual({ reason: 'TOKEN_EXPIRED', stsCalls: 0 });
  });

  it('requires the audience header: present, signed and equal', async () => {
    expect(await refused(await tokenFor(alice.credentials, { includeAudience: false }))).toEqual({
      reason: 'AUDIENCE_MISSING',
      stsCalls: 0,
    });
    expect(await refused(await tokenFor(alice.credentials, { signAudience: false }))).toEqual({
      reason: 'AUDIENCE_NOT_SIGNED',
      stsCalls: 0,
    });
    expect(
      await refused(await tokenFor(alice.credentials, {}, { audience: 'another-service' })),
    ).toEqual({ reason: 'AUDIENCE_MISMATCH', stsCalls: 0 });
  });

  it('refuses a signed request for another action', async () => {
    const token = await tokenFor(alice.credentials, {
      body: 'Action=GetSessionToken&Version=2011-06-15',
    });
    expect(await refused(token)).toEqual({ reason: 'WRONG_ACTION', stsCalls: 0 });
  });

  it('refuses an oversized token', async () => {
    const token = await tokenFor(alice.credentials);
    const parts = JSON.parse(Buffer.from(token.split(' ')[1] ?? '', 'base64url').toString());
    parts.headers['x-amz-padding'] = 'x'.repeat(9000);
    const big = `AcmCertExport ${Buffer.from(JSON.stringify(parts)).toString('base64url')}`;
    expect(big.length).toBeGreaterThan(8192);
    expect(await refused(big)).toEqual({ reason: 'TOKEN_TOO_LARGE', stsCalls: 0 });
  });

  it('never contacts a host named by the token', async () => {
    const foreignEndpoint = `http://127.0.0.1:${foreignPort}`;
    const signedForForeign = await tokenFor(
      alice.credentials,
      {},
      { stsEndpoint: foreignEndpoint },
    );
    expect(await refused(signedForForeign)).toEqual({ reason: 'WRONG_HOST', stsCalls: 0 });
    // A URL smuggled into the token is refused too (the format has no destination field).
    const parts = JSON.parse(
      Buffer.from(signedForForeign.split(' ')[1] ?? '', 'base64url').toString(),
    );
    const smuggled = `AcmCertExport ${Buffer.from(JSON.stringify({ ...parts, url: `${foreignEndpoint}/` })).toString('base64url')}`;
    expect(await refused(smuggled)).toEqual({ reason: 'MALFORMED_TOKEN', stsCalls: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(foreignConnections).toBe(0);
  });

  it('matches a role session as its role (STS reports the session; the path is dropped)', async () => {
    expect(sessionArn).toBe(`arn:aws:sts::${account}:assumed-role/deployer/pipeline-run-42`);
    const token = await tokenFor(session);
    const res = await call('POST', '/v1/deployments', token, {
      ...v1Body,
      target: { key: 'env', value: 'dev-blue' },
    });
    expect(res.status).toBe(202);
    expect(api.queue.messages.at(-1)?.requester).toBe(`arn:aws:iam::${account}:role/deployer`);
    // The role may deploy but not read everything.
    expect((await call('GET', '/v1/certificates', token)).status).toBe(403);
  });

  it('authorizes deployments by target tag: allowed on env=dev, refused on env=prod', async () => {
    const token = await tokenFor(alice.credentials);
    expect((await call('POST', '/v1/deployments', token, v1Body)).status).toBe(202);
    const prod = await call('POST', '/v1/deployments', token, {
      ...v1Body,
      target: { key: 'env', value: 'prod' },
    });
    expect(prod.status).toBe(403);
    expect(prod.json.error?.code).toBe('FORBIDDEN');
    const legacyProd = await call('POST', '/export-cert', token, {
      CertificateArn: certArn,
      CertName: 'web',
      TargetTagKey: 'env',
      TargetTagValue: 'prod',
    });
    expect(legacyProd.status).toBe(403);
  });

  it('read-only and unknown principals get 403, never a deployment', async () => {
    const before = api.queue.messages.length;
    const bobToken = await tokenFor(bob.credentials);
    expect((await call('GET', '/v1/certificates', bobToken)).status).toBe(200);
    expect((await call('POST', '/v1/deployments', bobToken, v1Body)).status).toBe(403);
    const malloryToken = await tokenFor(mallory.credentials);
    expect((await call('GET', '/v1/certificates', malloryToken)).status).toBe(403);
    expect(api.queue.messages.length).toBe(before);
  });

  it('asks STS at most once per token while it is valid, also for concurrent requests', async () => {
    // Carol signs nothing else: a token of another test signed in the same second (X-Amz-Date has
    // seconds) would be the same token, already verified, and STS would not be asked at all.
    const token = await tokenFor(carol.credentials);
    const before = stsCalls;
    await Promise.all(Array.from({ length: 5 }, () => call('GET', '/v1/certificates', token)));
    for (let i = 0; i < 5; i++)
      expect((await call('GET', '/v1/certificates', token)).status).toBe(200);
    expect(stsCalls - before).toBe(1);
  });

  it('every route answers 401 without credentials (health and the OpenAPI document excepted)', async () => {
    const enc = encodeURIComponent;
    const routes: [string, string, number][] = [
      ['POST', '/export-cert', 401],
      ['POST', '/v1/deployments', 401],
      ['GET', '/v1/deployments/job-00000001', 401],
      ['GET', '/v1/certificates', 401],
      ['GET', `/v1/certificates/${enc(certArn)}/deployments`, 401],
      ['DELETE', `/v1/certificates/${enc(certArn)}/targets/env/dev/web`, 401],
      ['GET', '/healthz', 200],
      ['GET', '/readyz', 200],
      ['GET', '/openapi.json', 200],
    ];
    for (const [method, path, status] of routes) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        ...(method === 'POST'
          ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(v1Body) }
          : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(status);
    }
  });
});
