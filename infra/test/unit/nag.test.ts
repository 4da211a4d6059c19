import { App, Validations } from 'aws-cdk-lib';
import { describe, expect, it, vi } from 'vitest';
import { buildStack, defaultRepoRoot } from '../../lib/app.ts';
import { AwsSolutionsChecks } from '../../lib/nag.ts';
import { baseContext } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** The configurations the checks must pass in: every branch of the stack that adds resources. */
const configurations: [string, Record<string, unknown>][] = [
  ['the default (ALB, new VPC, public image)', {}],
  [
    'apigateway mode with the worker scaled to zero in public subnets on Spot (the low-cost profile)',
    { apiMode: 'apigateway', networkProfile: 'public', minTasks: '0', fargateSpot: 'true' },
  ],
  ['the image built from the Dockerfile (an ECR asset; synth only stages it)', { imageUri: '' }],
  [
    'an ECR image, interface endpoints and no NAT, example server roles, a secrets CMK, an allow-list and an e-mail',
    {
      imageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/acm-cert-export:1.0.0',
      networkProfile: 'endpoints',
      exampleServerRoleTagValue: 'dev',
      secretsKmsKeyArn:
        'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      allowedCertificateArns: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      alarmEmail: 'ops@example.com',
      tagGovernance: 'true',
      tagAdminRoleArns: 'arn:aws:iam::123456789012:role/SecurityAdmin',
    },
  ],
  [
    'an imported VPC and an internet-facing ALB',
    {
      vpcId: 'vpc-0123abcd',
      vpcCidr: '10.1.0.0/16',
      availabilityZones: 'us-east-1a,us-east-1b',
      privateSubnetIds: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
      publicSubnetIds: 'subnet-0a1b2c3d4e5f60003,subnet-0a1b2c3d4e5f60004',
      albInternetFacing: 'true',
      albIngressCidrs: '203.0.113.0/24',
    },
  ],
];

function build(context: Record<string, unknown>) {
  const app = new App({ context: { ...baseContext, ...context } });
  return { app, stack: buildStack(app, { repoRoot: defaultRepoRoot }) };
}

function acknowledgements(app: App): { path: string; id: string; reason: string }[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^Annotation::/, ''),
          reason,
        })),
      ),
  );
}

describe.each(configurations)('cdk-nag AwsSolutions checks on %s', (_name, context) => {
  it('report no unacknowledged finding, error or warning', () => {
    const { app, stack } = build(context);
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const findings = report.violations.map(
      (v) =>
        `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('let the synth through (buildStack registers the checks as a validation plugin)', () => {
    const { app } = build(context);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('cdk-nag acknowledgements', () => {
  const everyOption = configurations.find(([name]) => name.startsWith('an ECR image'))?.[1];
  const { app } = build(everyOption ?? {});
  const all = acknowledgements(app).filter((a) => a.id.startsWith('AwsSolutions-'));

  it('each carry a written reason', () => {
    for (const a of all) expect(a.reason.length, `${a.id} at ${a.path}`).toBeGreaterThan(40);
  });

  it('are only the reviewed ones (a new one must be added here on purpose)', () => {
    const rules = [
      ...new Set(all.map((a) => a.id.replace(/\[Resource::.*\]$/, '[Resource::…]'))),
    ].sort();
    expect(rules).toEqual([
      'AwsSolutions-ECS2',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'AwsSolutions-IAM5[Action::*]', // the tag-governance boundary's Allow *
      'AwsSolutions-IAM5[Resource::…]',
      'AwsSolutions-S1',
      'AwsSolutions-SQS3',
    ]);
    const wildcardResources = [
      ...new Set(all.filter((a) => a.id.startsWith('AwsSolutions-IAM5')).map((a) => a.id)),
    ].sort();
    expect(wildcardResources).toEqual([
      'AwsSolutions-IAM5[Action::*]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::<TablesDeploymentsA7A21BB5.Arn>/index/*]',
      'AwsSolutions-IAM5[Resource::<TablesMappings0FABF01C.Arn>/index/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:us-east-1:123456789012:instance/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:us-east-1:123456789012:task/<ServiceCluster572F72F1>/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:us-east-1:123456789012:secret:acm-passphrase/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:us-east-1:123456789012:managed-instance/*]',
    ]);
  });

  it('acknowledge each IAM5 Resource::* with one reason, on the policy holding that statement alone', () => {
    const star = all.filter((a) => a.id === 'AwsSolutions-IAM5[Resource::*]');
    const byPolicy = Object.fromEntries(
      star.map((a) => [a.path.replace(/^AcmCertExport\//, ''), a.reason]),
    );
    expect(Object.keys(byPolicy).sort()).toEqual([
      'Service/Task/ExecutionRole', // pulling from ECR: ecr:GetAuthorizationToken
      'Service/Task/TaskRole/CancelTimedOutCommandsPolicy',
      'Service/Task/TaskRole/DescribeStartedServersPolicy',
      'Service/Task/TaskRole/ReadCommandStatusPolicy',
      'TagGovernance/Boundary', // a permissions boundary's Allow * and Deny on *
    ]);
    expect(byPolicy['Service/Task/TaskRole/ReadCommandStatusPolicy']).toMatch(
      /ssm:ListCommands.*\*/,
    );
    expect(byPolicy['Service/Task/TaskRole/DescribeStartedServersPolicy']).toMatch(
      /ec2:DescribeInstances/,
    );
    expect(new Set(Object.values(byPolicy)).size).toBe(5);
  });

  it('in apigateway mode add only the API Gateway ones', () => {
    const api = acknowledgements(build({ apiMode: 'apigateway' }).app)
      .filter((a) => a.path.includes('/Api/'))
      .map((a) => a.id.replace(/\[Resource::.*\]$/, '[Resource::…]'));
    expect([...new Set(api)].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'AwsSolutions-IAM5[Resource::…]',
    ]);
  });
});
