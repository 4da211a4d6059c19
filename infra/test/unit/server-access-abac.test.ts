import { beforeAll, describe, expect, it, vi } from 'vitest';
import { simulate } from '../../../local/iam/evaluation.ts';
import type { Template } from '../../../local/iam/intrinsics.ts';
import { modePolicies, type NamedPolicy } from '../../../local/iam/role-policies.ts';
import { synth, testAccount, testRegion } from './support/synth.ts';

// The servers' passphrase policy evaluated, not just read: ABAC decides by tags at request time,
// so only an evaluation shows that the condition compares what it should.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const serverRole = `arn:aws:iam::${testAccount}:role/ExampleInstanceRole`;
const secret = (name: string) =>
  `arn:aws:secretsmanager:${testRegion}:${testAccount}:secret:${name}-AbCdEf`;

function serverPolicyOf(context: Record<string, unknown>): NamedPolicy {
  const { stack, template } = synth(context);
  return modePolicies('alb', template.toJSON() as Template, {
    account: testAccount,
    region: testRegion,
    stackName: stack.stackName,
  }).serverPolicy;
}

async function reads(
  policy: NamedPolicy,
  roleTags: Record<string, string>,
  secretArn: string,
  secretTags: Record<string, string>,
): Promise<string> {
  const context = Object.fromEntries([
    ...Object.entries(roleTags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]),
    ...Object.entries(secretTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]),
  ]);
  const { decision, detail } = await simulate(
    serverRole,
    [policy],
    { action: 'secretsmanager:GetSecretValue', resource: secretArn, context },
    testAccount,
  );
  return detail === undefined ? decision : `${decision}: ${detail}`;
}

describe('a server reading a passphrase (ServerAccess, ABAC)', () => {
  let policy: NamedPolicy;
  beforeAll(() => {
    policy = serverPolicyOf({});
  });

  it.each([
    ['env=dev', { env: 'dev' }, { env: 'dev' }, 'Allowed'],
    [
      'env=dev reading a secret tagged env=prod',
      { env: 'dev' },
      { env: 'prod' },
      'ImplicitlyDenied',
    ],
    ['without the tag', {}, { env: 'dev' }, 'ImplicitlyDenied'],
    ['env=dev reading a secret without the tag', { env: 'dev' }, {}, 'ImplicitlyDenied'],
    ['without the tag reading a secret without it', {}, {}, 'ImplicitlyDenied'],
    ['tagged with another key only', { team: 'dev' }, { team: 'dev' }, 'ImplicitlyDenied'],
  ])('a role %s: %s', async (_case, roleTags, secretTags, expected) => {
    expect(await reads(policy, roleTags, secret('acm-passphrase/web-1a2b3c'), secretTags)).toBe(
      expected,
    );
  });

  it('reads nothing outside acm-passphrase/, whatever the tags', async () => {
    expect(await reads(policy, { env: 'dev' }, secret('other/web'), { env: 'dev' })).toBe(
      'ImplicitlyDenied',
    );
  });

  it('compares the configured target tag key', async () => {
    const team = serverPolicyOf({ targetTagKey: 'team' });
    const arn = secret('acm-passphrase/web-1a2b3c');
    expect(await reads(team, { team: 'a' }, arn, { team: 'a' })).toBe('Allowed');
    expect(await reads(team, { env: 'dev' }, arn, { env: 'dev' })).toBe('ImplicitlyDenied');
  });
});
