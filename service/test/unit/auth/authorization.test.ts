import { describe, expect, it } from 'vitest';
import { anonymousAuthenticator, createAuthenticator } from '../../../src/auth/authenticator.ts';
import { compileRules } from '../../../src/auth/authorization.ts';
import { lambdaAuthenticator } from '../../../src/auth/lambda-authenticator.ts';
import {
  canonicalPattern,
  canonicalPrincipal,
  PrincipalPatternError,
  wildcardMatcher,
} from '../../../src/auth/principal.ts';
import type { PrincipalRule } from '../../../src/config/config.ts';
import { ManualClock } from '../../support/fakes/aws-fakes.ts';

describe('canonical principals', () => {
  it.each([
    [
      'arn:aws:sts::123456789012:assumed-role/deployer/session-1',
      'arn:aws:iam::123456789012:role/deployer',
    ],
    [
      'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_abc/alice@example.com',
      'arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_abc',
    ],
    ['arn:aws-cn:sts::123456789012:assumed-role/r/s', 'arn:aws-cn:iam::123456789012:role/r'],
    ['arn:aws:iam::123456789012:user/ci/bob', 'arn:aws:iam::123456789012:user/ci/bob'],
    ['arn:aws:iam::123456789012:root', 'arn:aws:iam::123456789012:root'],
    [
      'arn:aws:sts::123456789012:federated-user/bob',
      'arn:aws:sts::123456789012:federated-user/bob',
    ],
  ])('%s → %s', (arn, canonical) => {
    expect(canonicalPrincipal(arn)).toBe(canonical);
  });

  it.each([
    ['arn:aws:iam::123456789012:role/deployer', 'arn:aws:iam::123456789012:role/deployer'],
    ['arn:aws:iam::123456789012:role/team/deployer', 'arn:aws:iam::123456789012:role/deployer'],
    [
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc',
      'arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_abc',
    ],
    ['arn:aws:iam::*:role/team/deployer', 'arn:aws:iam::*:role/deployer'],
    ['arn:aws:iam::123456789012:role/ci-*', 'arn:aws:iam::123456789012:role/ci-*'],
    ['arn:aws:iam::123456789012:user/ci/*', 'arn:aws:iam::123456789012:user/ci/*'],
  ])('pattern %s matches as %s', (pattern, canonical) => {
    expect(canonicalPattern(pattern)).toBe(canonical);
  });

  it.each([
    [
      'a role session (caller-controlled name)',
      'arn:aws:sts::123456789012:assumed-role/deployer/*',
    ],
    ['a wildcard under a role path', 'arn:aws:iam::123456789012:role/team/*'],
    ['a wildcard path', 'arn:aws:iam::123456789012:role/*/deployer'],
  ])('refuses a pattern with %s', (_name, pattern) => {
    expect(() => canonicalPattern(pattern)).toThrow(PrincipalPatternError);
  });

  it('wildcards are anchored and everything else is literal', () => {
    const m = wildcardMatcher('arn:aws:iam::123456789012:role/ci.*');
    expect(m('arn:aws:iam::123456789012:role/ci.deploy')).toBe(true);
    expect(m('arn:aws:iam::123456789012:role/ciXdeploy')).toBe(false);
    expect(m('xarn:aws:iam::123456789012:role/ci.deploy')).toBe(false);
    expect(wildcardMatcher('a+b(c)')('a+b(c)')).toBe(true);
    expect(wildcardMatcher('a+b')('aab')).toBe(false);
  });
});

describe('rules', () => {
  const rules: PrincipalRule[] = [
    {
      principal: 'arn:aws:iam::123456789012:role/ci-*',
      actions: ['deploy'],
      targets: ['env=dev', 'env=test-*'],
    },
    {
      principal: 'arn:aws:iam::123456789012:role/team/ops',
      actions: ['read', 'deploy'],
      targets: ['*=*'],
    },
    { principal: 'arn:aws:iam::*:user/auditors/*', actions: ['read'], targets: [] },
    { principal: 'arn:aws:iam::123456789012:role/ci-web', actions: ['read'], targets: [] },
  ];
  const authz = compileRules(rules);
  const ci = canonicalPrincipal('arn:aws:sts::123456789012:assumed-role/ci-api/run-1');
  const ciWeb = 'arn:aws:iam::123456789012:role/ci-web';
  const ops = canonicalPrincipal('arn:aws:sts::123456789012:assumed-role/ops/alice');

  it.each([
    [ci, 'deploy', true],
    [ci, 'read', false],
    [ciWeb, 'read', true],
    [ops, 'read', true],
    ['arn:aws:iam::999999999999:user/auditors/eve', 'read', true],
    ['arn:aws:iam::999999999999:user/auditors/eve', 'deploy', false],
    ['arn:aws:iam::123456789012:role/other', 'read', false],
    ['arn:aws:iam::210987654321:role/ci-api', 'deploy', false],
  ] as const)('%s may %s: %s', (principal, action, allowed) => {
    expect(authz.allows(principal, action)).toBe(allowed);
  });

  it.each([
    [ci, 'env', 'dev', true],
    [ci, 'env', 'test-eu', true],
    [ci, 'env', 'prod', false],
    [ci, 'env', 'dev2', false],
    [ci, 'Env', 'dev', false],
    [ciWeb, 'env', 'dev', true],
    [ops, 'anything', 'at all', true],
    ['arn:aws:iam::999999999999:user/auditors/eve', 'env', 'dev', false],
  ] as const)('%s may deploy to %s=%s: %s', (principal, key, value, allowed) => {
    expect(authz.allowsTarget(principal, { key, value })).toBe(allowed);
  });

  it.each([
    [ops, true, 'a deploy rule with *=*'],
    [ci, false, 'deploy on some targets only'],
    ['arn:aws:iam::999999999999:user/auditors/eve', false, 'read only'],
    ['arn:aws:iam::123456789012:role/other', false, 'no rule'],
  ] as const)('%s may deploy to every target: %s (%s)', (principal, allowed, _why) => {
    expect(authz.allowsEveryTarget(principal)).toBe(allowed);
  });

  it('every target takes *=* in a deploy rule: neither a key wildcard alone nor *=* without deploy', () => {
    const principal = 'arn:aws:iam::123456789012:role/p';
    const every = (actions: PrincipalRule['actions'], targets: string[]) =>
      compileRules([{ principal, actions, targets }]).allowsEveryTarget(principal);
    expect(every(['deploy'], ['*=*'])).toBe(true);
    expect(every(['deploy'], ['env=dev', '**=*'])).toBe(true);
    expect(every(['deploy'], ['env=*'])).toBe(false);
    expect(every(['deploy'], ['*=prod*'])).toBe(false);
    expect(every(['read', 'install-options'], ['*=*'])).toBe(false);
  });

  it('a bad pattern stops the service at start', () => {
    expect(() =>
      compileRules([{ principal: 'arn:aws:iam::1:role/x/*', actions: ['read'], targets: [] }]),
    ).toThrow(/role path and a wildcard/);
  });
});

describe('authenticators by mode', () => {
  const clock = new ManualClock();
  const auth = {
    audience: 'a',
    stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
    maxTokenAgeSeconds: 300,
    principals: [],
  };
  it('builds the one the configuration asks for', () => {
    expect(createAuthenticator({ ...auth, mode: 'sts' }, { clock }).mode).toBe('sts');
    expect(createAuthenticator({ ...auth, mode: 'lambda' }, { clock }).mode).toBe('lambda');
    expect(createAuthenticator({ ...auth, mode: 'none' }, { clock })).toBe(anonymousAuthenticator);
  });

  it('lambda: takes the identity API Gateway verified (REST and HTTP APIs)', async () => {
    const lambda = lambdaAuthenticator();
    const rest = {
      requestContext: {
        identity: {
          userArn: 'arn:aws:sts::123456789012:assumed-role/ci-api/run-1',
          caller: 'AROAEXAMPLE:run-1',
        },
      },
    };
    expect(await lambda.authenticate({ authorization: 'ignored', lambdaEvent: rest })).toEqual({
      principal: 'arn:aws:iam::123456789012:role/ci-api',
      arn: 'arn:aws:sts::123456789012:assumed-role/ci-api/run-1',
      method: 'lambda',
    });
    const http = {
      requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/bob' } } },
    };
    expect(
      (await lambda.authenticate({ authorization: undefined, lambdaEvent: http })).principal,
    ).toBe('arn:aws:iam::123456789012:user/bob');
  });

  it('lambda: refuses requests without a verified identity, whatever the headers say', async () => {
    const lambda = lambdaAuthenticator();
    for (const lambdaEvent of [
      undefined,
      {},
      { requestContext: { identity: { userArn: null, caller: null } } },
      { requestContext: { identity: { userArn: 'alice' } } },
    ]) {
      await expect(
        lambda.authenticate({ authorization: 'AWS4-HMAC-SHA256 Credential=x', lambdaEvent }),
      ).rejects.toMatchObject({ reason: 'NO_IDENTITY' });
    }
  });
});
