import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type Controls, simulate } from '../../../local/iam/evaluation.ts';
import { type Template as CfnTemplate, resolveIntrinsics } from '../../../local/iam/intrinsics.ts';
import type { NamedPolicy, PolicyDocument } from '../../../local/iam/role-policies.ts';
import { defaultRepoRoot } from '../../lib/app.ts';
import { SettingsError } from '../../lib/settings.ts';
import { tagGovernanceScp } from '../../lib/tag-governance.ts';
import { onlyResource } from './support/policies.ts';
import { synth, testAccount, testRegion } from './support/synth.ts';

// The tag governance evaluated, not just read: who may still decide which servers read which
// passphrases, under the boundary the stack creates and under the same statements as an SCP.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const role = (name: string) => `arn:aws:iam::${testAccount}:role/${name}`;
const admin = role('SecurityAdmin');
const developer = role('Developer');
const governed = {
  tagGovernance: 'true',
  tagAdminRoleArns: `${admin},${role('cdk-*-cfn-exec-role-*')}`,
};
const env = { account: testAccount, region: testRegion, stackName: 'AcmCertExport' };
const secret = (name: string) =>
  `arn:aws:secretsmanager:${testRegion}:${testAccount}:secret:${name}-AbCdEf`;
/** What an administrator-like identity policy allows: everything. */
const allowAll: NamedPolicy = {
  name: 'AdministratorAccess',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

let boundary: NamedPolicy;
let scp: NamedPolicy;
let taskRole: string;
beforeAll(() => {
  const { template } = synth(governed);
  const cfn = template.toJSON() as CfnTemplate;
  const [id, policy] =
    Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).find(([k]) =>
      k.startsWith('TagGovernance'),
    ) ?? [];
  if (id === undefined || policy === undefined) throw new Error('no tag-governance policy');
  boundary = {
    name: id,
    policy: resolveIntrinsics(policy.Properties.PolicyDocument, cfn, env) as PolicyDocument,
  };
  // The same Deny statements as an SCP, beside the FullAWSAccess every account starts with.
  scp = {
    name: 'TagGovernance',
    policy: {
      ...boundary.policy,
      Statement: boundary.policy.Statement.filter((s) => s.Effect === 'Deny'),
    },
  };
  const definition = onlyResource(template, 'AWS::ECS::TaskDefinition').Properties;
  taskRole = resolveIntrinsics(definition.TaskRoleArn, cfn, env) as string;
});

const asBoundary = (): Controls => ({ permissionsBoundary: boundary });
const asScp = (): Controls => ({ serviceControlPolicies: [allowAll, scp] });

async function decide(
  controls: Controls,
  principal: string,
  action: string,
  resource: string,
  tagKeys?: string[],
): Promise<string> {
  // AWS puts the caller's ARN in every request (for a role session, the role's ARN).
  const context = {
    'aws:PrincipalArn': principal,
    ...(tagKeys === undefined ? {} : { 'aws:TagKeys': tagKeys }),
  };
  const { decision, detail } = await simulate(
    principal,
    [allowAll],
    { action, resource, context },
    testAccount,
    undefined,
    controls,
  );
  return detail === undefined ? decision : `${decision}: ${detail}`;
}

describe.each([
  ['as the permissions boundary the stack creates', asBoundary],
  ['as the SCP of docs/deploy.md', asScp],
])('tag governance %s', (_how, controls) => {
  const webDev = role('web-dev');

  it.each([
    ['tag a role with the target tag key', 'iam:TagRole', ['env']],
    ['tag it with the key in other letters (IAM tag keys ignore case)', 'iam:TagRole', ['ENV']],
    ['remove the target tag from a role', 'iam:UntagRole', ['env']],
    ['create a role carrying the target tag', 'iam:CreateRole', ['team', 'env']],
    [
      'tag a user with the target tag key',
      'iam:TagUser',
      ['env'],
      `arn:aws:iam::${testAccount}:user/alice`,
    ],
  ])(
    'refuses an administrator-like developer to %s',
    async (_what, action, keys, resource = webDev) => {
      expect(await decide(controls(), developer, action, resource, keys)).toBe('ExplicitlyDenied');
    },
  );

  it('lets the named administrators change the target tag of roles', async () => {
    expect(await decide(controls(), admin, 'iam:TagRole', webDev, ['env'])).toBe('Allowed');
    const cfnRole = role('cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1');
    expect(await decide(controls(), cfnRole, 'iam:CreateRole', webDev, ['env'])).toBe('Allowed');
  });

  it('leaves other tags and untagged roles alone', async () => {
    expect(await decide(controls(), developer, 'iam:TagRole', webDev, ['team'])).toBe('Allowed');
    expect(await decide(controls(), developer, 'iam:CreateRole', webDev)).toBe('Allowed');
  });

  it('refuses session tags of the target key (they would override the role’s tag)', async () => {
    expect(await decide(controls(), developer, 'sts:TagSession', webDev, ['env'])).toBe(
      'ExplicitlyDenied',
    );
    expect(await decide(controls(), developer, 'sts:TagSession', webDev, ['project'])).toBe(
      'Allowed',
    );
    expect(await decide(controls(), admin, 'sts:TagSession', webDev, ['env'])).toBe('Allowed');
  });

  it.each(['secretsmanager:TagResource', 'secretsmanager:UntagResource'])(
    'lets only the service and the administrators %s a passphrase secret',
    async (action) => {
      const passphrase = secret('acm-passphrase/web');
      expect(await decide(controls(), developer, action, passphrase, ['env'])).toBe(
        'ExplicitlyDenied',
      );
      expect(await decide(controls(), taskRole, action, passphrase, ['env'])).toBe('Allowed');
      expect(await decide(controls(), admin, action, passphrase, ['env'])).toBe('Allowed');
      expect(await decide(controls(), developer, action, secret('app/db'), ['env'])).toBe(
        'Allowed',
      );
    },
  );

  it('does not exempt the service from the role rules (it never tags roles)', async () => {
    expect(await decide(controls(), taskRole, 'iam:TagRole', webDev, ['env'])).toBe(
      'ExplicitlyDenied',
    );
  });
});

describe('the boundary', () => {
  it('grants nothing by itself: only what the identity policies grant, less the denials', async () => {
    const s3Only: NamedPolicy = {
      name: 'ReadOneBucket',
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
      },
    };
    const { decision } = await simulate(
      developer,
      [s3Only],
      { action: 'iam:ListRoles', resource: '*', context: {} },
      testAccount,
      undefined,
      asBoundary(),
    );
    expect(decision).toBe('ImplicitlyDenied');
  });

  it('is created only when asked for, and then needs the administrators named', () => {
    synth().template.resourceCountIs('AWS::IAM::ManagedPolicy', 1); // the servers' policy alone
    expect(() => synth({ tagGovernance: 'true' })).toThrow(SettingsError);
    expect(Object.keys(synth(governed).template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['TagGovernanceBoundaryArn', 'ServiceTaskRoleArn']),
    );
  });
});

describe('docs/deploy.md', () => {
  it('shows the SCP this stack’s statements make, for the example values it names', () => {
    const doc = readFileSync(join(defaultRepoRoot, 'docs', 'deploy.md'), 'utf8');
    const block = /<!-- tag-governance-scp -->\s*```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (block === undefined) throw new Error('docs/deploy.md has no tag-governance-scp block');
    expect(JSON.parse(block)).toEqual(
      tagGovernanceScp({
        targetTagKey: 'env',
        passphraseSecrets: 'arn:aws:secretsmanager:*:111122223333:secret:acm-passphrase/*',
        adminRoleArns: [
          'arn:aws:iam::111122223333:role/SecurityAdmin',
          'arn:aws:iam::111122223333:role/cdk-*-cfn-exec-role-*',
        ],
        serviceRoleArn:
          'arn:aws:iam::111122223333:role/AcmCertExport-ServiceTaskRole1A2B3C4D-EXAMPLE',
      }),
    );
  });
});
