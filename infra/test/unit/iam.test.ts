import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ssmActionsRequiringWildcard } from '../../lib/iam-policies.ts';
import { flat } from './support/flatten.ts';
import {
  actionsOf,
  identityStatements,
  onlyResource,
  resourcesOf,
  type Statement,
  statementsOfRole,
} from './support/policies.ts';
import { synth } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const kmsKey = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const arn = (service: string, resource: string) =>
  `arn:<AWS::Partition>:${service}:us-east-1:123456789012:${resource}`;

/**
 * The only actions allowed on a bare `*` resource, each with the reason: IAM's service
 * authorization reference lists no resource type for them, so nothing narrower ever matches.
 */
const wildcardOnlyActions: Record<string, string> = {
  'ssm:ListCommands': 'no resource type: the worker lists its own commands by id',
  'ssm:ListCommandInvocations': 'no resource type: the worker polls per-server results',
  'ssm:DescribeInstanceInformation':
    'no resource type: the worker waits for the agent of a server that just started',
  'ecr:GetAuthorizationToken': 'no resource type: the ECS agent logs in to ECR to pull the image',
  'ec2:DescribeInstances':
    'no resource type: the worker reads the tags of an instance that entered running',
  'ssm:CancelCommand': 'no resource type: the worker cancels the command of a job that timed out',
};

const configurations: [string, Record<string, unknown>][] = [
  ['default', {}],
  ['apigateway', { apiMode: 'apigateway' }],
  [
    'every option',
    {
      imageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/acm-cert-export:1.0.0',
      exampleServerRoleTagValue: 'dev',
      secretsKmsKeyArn: kmsKey,
    },
  ],
];

function bySid(statements: Statement[]): Record<string, Statement> {
  return Object.fromEntries(statements.map((s) => [s.Sid ?? JSON.stringify(s.Action), s]));
}

function roleOfTaskDefinition(
  template: Template,
  property: 'TaskRoleArn' | 'ExecutionRoleArn',
): string {
  const definition = onlyResource(template, 'AWS::ECS::TaskDefinition');
  return (definition.Properties[property] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

describe.each(configurations)('every IAM statement (%s)', (_name, context) => {
  let statements: ReturnType<typeof identityStatements>;
  beforeAll(() => {
    statements = identityStatements(synth(context).template);
  });

  it('exist (the walk found the policies)', () => {
    expect(statements.length).toBeGreaterThan(10);
  });

  it('allows named actions only: no "*" and no "service:*" wildcard', () => {
    const wildcards = statements.flatMap(({ owner, statement }) =>
      actionsOf(statement)
        .filter((a) => a.includes('*'))
        .map((a) => `${owner}: ${a}`),
    );
    expect(wildcards).toEqual([]);
  });

  it('uses a bare "*" resource only for actions that IAM cannot scope (SSM command reads, ECR login)', () => {
    for (const { owner, statement } of statements) {
      if (!resourcesOf(statement).includes('*')) continue;
      for (const action of actionsOf(statement)) {
        expect(wildcardOnlyActions[action], `${owner} allows ${action} on *`).toBeDefined();
      }
    }
  });

  it('are all Allow statements (no hidden Deny that the tests would misread)', () => {
    expect(statements.filter(({ statement }) => statement.Effect !== 'Allow')).toEqual([]);
  });
});

describe('the SSM read actions', () => {
  it('are exactly the three that have no resource type, and the worker needs them on "*"', () => {
    expect([...ssmActionsRequiringWildcard].sort()).toEqual([
      'ssm:DescribeInstanceInformation',
      'ssm:ListCommandInvocations',
      'ssm:ListCommands',
    ]);
  });
});

describe('the task role (worker and API on Fargate)', () => {
  let s: Record<string, Statement>;
  beforeAll(() => {
    const { template } = synth({ secretsKmsKeyArn: kmsKey });
    s = bySid(statementsOfRole(template, roleOfTaskDefinition(template, 'TaskRoleArn')));
  });

  it('has exactly the statements the worker and API use', () => {
    expect(Object.keys(s).sort()).toEqual([
      'CancelTimedOutCommands',
      'ConsumeTheJobQueue',
      'CreatePassphraseSecretsWithTheTargetTag',
      'DescribeStartedServers',
      'EncryptNotificationsThroughSns',
      'EncryptPassphrasesThroughSecretsManager',
      'ExportAllowedCertificates',
      'ListEveryMapping',
      'MoveFailedJobsToTheDeadLetterQueue',
      'OnServersCarryingTheTargetTagKey',
      'ProtectOwnTaskFromScaleIn',
      'PublishNotifications',
      'ReadCommandStatus',
      'ReadWriteMappingsAndDeploymentRecords',
      'ReadWritePerServerItems',
      'RunTheInstallDocument',
      'UsePassphraseSecrets',
    ]);
  });

  it('exports and describes certificates of this account and region only', () => {
    const st = s.ExportAllowedCertificates as Statement;
    expect(actionsOf(st).sort()).toEqual(['acm:DescribeCertificate', 'acm:ExportCertificate']);
    expect(resourcesOf(st).map(flat)).toEqual([arn('acm', 'certificate/*')]);
  });

  it('creates passphrase secrets under acm-passphrase/ only with the target tag (ABAC needs it)', () => {
    const st = s.CreatePassphraseSecretsWithTheTargetTag as Statement;
    expect(actionsOf(st).sort()).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:TagResource',
    ]);
    expect(resourcesOf(st).map(flat)).toEqual([arn('secretsmanager', 'secret:acm-passphrase/*')]);
    expect(st.Condition).toEqual({ Null: { 'aws:RequestTag/env': 'false' } });
  });

  it('uses, reads, deletes and restores only acm-passphrase/ secrets', () => {
    const st = s.UsePassphraseSecrets as Statement;
    expect(actionsOf(st).sort()).toEqual([
      'secretsmanager:DeleteSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:RestoreSecret',
    ]);
    expect(resourcesOf(st).map(flat)).toEqual([arn('secretsmanager', 'secret:acm-passphrase/*')]);
  });

  it('uses the secrets key only through Secrets Manager', () => {
    const st = s.EncryptPassphrasesThroughSecretsManager as Statement;
    expect(actionsOf(st).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(resourcesOf(st)).toEqual([kmsKey]);
    expect(st.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' },
    });
  });

  it('reads and writes the two tables and their indexes, nothing else', () => {
    const st = s.ReadWriteMappingsAndDeploymentRecords as Statement;
    expect(actionsOf(st).every((a) => a.startsWith('dynamodb:'))).toBe(true);
    expect(actionsOf(st)).not.toContain('dynamodb:DeleteTable');
    // Scanning is a statement of its own, on the mappings table alone.
    expect(actionsOf(st)).not.toContain('dynamodb:Scan');
    const resources = resourcesOf(st).map(flat);
    expect(resources).toHaveLength(4);
    expect(resources.filter((r) => r.endsWith('/index/*'))).toHaveLength(2);
    for (const r of resources)
      expect(r).toMatch(/^<Tables(Mappings|Deployments)[0-9A-F]+\.Arn>(\/index\/\*)?$/);
  });

  it('reads a partition and batch-writes the per-server items of its own table, nothing else', () => {
    const st = s.ReadWritePerServerItems as Statement;
    expect(actionsOf(st).sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Query']);
    expect(resourcesOf(st).map(flat)).toEqual([
      expect.stringMatching(/^<TablesServers[0-9A-F]+\.Arn>$/),
    ]);
  });

  it('consumes the job queue and can only send to the DLQ', () => {
    expect(actionsOf(s.ConsumeTheJobQueue as Statement).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    expect(resourcesOf(s.ConsumeTheJobQueue as Statement).map(flat)).toEqual([
      expect.stringMatching(/^<JobQueuesQueue[0-9A-F]+\.Arn>$/),
    ]);
    expect(actionsOf(s.MoveFailedJobsToTheDeadLetterQueue as Statement)).toEqual([
      'sqs:SendMessage',
    ]);
    expect(resourcesOf(s.MoveFailedJobsToTheDeadLetterQueue as Statement).map(flat)).toEqual([
      expect.stringMatching(/^<JobQueuesDeadLetterQueue[0-9A-F]+\.Arn>$/),
    ]);
  });

  it('sends commands with the install document only', () => {
    const st = s.RunTheInstallDocument as Statement;
    expect(actionsOf(st)).toEqual(['ssm:SendCommand']);
    expect(resourcesOf(st).map(flat)).toEqual([arn('ssm', 'document/Install-ACMCertificate')]);
  });

  it('sends commands only to instances and managed nodes that carry the target tag key', () => {
    const st = s.OnServersCarryingTheTargetTagKey as Statement;
    expect(actionsOf(st)).toEqual(['ssm:SendCommand']);
    expect(resourcesOf(st).map(flat).sort()).toEqual([
      arn('ec2', 'instance/*'),
      arn('ssm', 'managed-instance/*'),
    ]);
    expect(st.Condition).toEqual({ Null: { 'ssm:resourceTag/env': 'false' } });
  });

  it('reads the tags of a started instance on "*": ec2:DescribeInstances has no resource type', () => {
    const st = s.DescribeStartedServers as Statement;
    expect(actionsOf(st)).toEqual(['ec2:DescribeInstances']);
    expect(resourcesOf(st)).toEqual(['*']);
  });

  it('publishes to the alarm topic only, and uses its key only through SNS', () => {
    expect(actionsOf(s.PublishNotifications as Statement)).toEqual(['sns:Publish']);
    expect(resourcesOf(s.PublishNotifications as Statement).map(flat)).toEqual([
      expect.stringMatching(/^<AlarmsTopic[0-9A-F]+>$/),
    ]);
    const key = s.EncryptNotificationsThroughSns as Statement;
    expect(actionsOf(key).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(resourcesOf(key).map(flat)).toEqual([
      expect.stringMatching(/^<OperationsKey[0-9A-F]+\.Arn>$/),
    ]);
    expect(key.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'sns.us-east-1.amazonaws.com' },
    });
  });

  it('reads command status on "*" because those SSM actions have no resource type', () => {
    const st = s.ReadCommandStatus as Statement;
    expect(actionsOf(st).sort()).toEqual([...ssmActionsRequiringWildcard].sort());
    expect(resourcesOf(st)).toEqual(['*']);
  });
});

describe('a certificate allow-list and another target tag key', () => {
  it('narrow the export statement to the listed certificates and the conditions to the key', () => {
    const allowed = [
      'arn:aws:acm:us-east-1:123456789012:certificate/aaa',
      'arn:aws:acm:us-east-1:123456789012:certificate/bbb',
    ];
    const { template } = synth({ allowedCertificateArns: allowed.join(','), targetTagKey: 'team' });
    const s = bySid(statementsOfRole(template, roleOfTaskDefinition(template, 'TaskRoleArn')));
    expect(resourcesOf(s.ExportAllowedCertificates as Statement)).toEqual(allowed);
    expect(s.OnServersCarryingTheTargetTagKey?.Condition).toEqual({
      Null: { 'ssm:resourceTag/team': 'false' },
    });
    expect(s.CreatePassphraseSecretsWithTheTargetTag?.Condition).toEqual({
      Null: { 'aws:RequestTag/team': 'false' },
    });
  });
});

describe('certificates of other regions', () => {
  it('are granted in the regions of certificateRegions, which the service is told', () => {
    const { template } = synth({ certificateRegions: 'us-east-1,eu-west-1' });
    const s = bySid(statementsOfRole(template, roleOfTaskDefinition(template, 'TaskRoleArn')));
    expect(resourcesOf(s.ExportAllowedCertificates as Statement).map(flat)).toEqual([
      flat({
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':acm:us-east-1:123456789012:certificate/*'],
        ],
      }),
      flat({
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':acm:eu-west-1:123456789012:certificate/*'],
        ],
      }),
    ]);
    const environment = JSON.stringify(template.findResources('AWS::ECS::TaskDefinition'));
    expect(environment).toContain('"Name":"CERTIFICATE_REGIONS","Value":"us-east-1,eu-west-1"');
  });

  it("are not granted by default: the stack's region only, and the service keeps its default", () => {
    const { template } = synth();
    const s = bySid(statementsOfRole(template, roleOfTaskDefinition(template, 'TaskRoleArn')));
    expect(resourcesOf(s.ExportAllowedCertificates as Statement)).toHaveLength(1);
    expect(flat(resourcesOf(s.ExportAllowedCertificates as Statement)[0])).toContain(
      ':acm:us-east-1:123456789012:certificate/*',
    );
    expect(JSON.stringify(template.findResources('AWS::ECS::TaskDefinition'))).not.toContain(
      'CERTIFICATE_REGIONS',
    );
  });
});

describe('the servers’ passphrase policy (ABAC)', () => {
  let template: Template;
  beforeAll(() => {
    template = synth({ exampleServerRoleTagValue: 'dev', secretsKmsKeyArn: kmsKey }).template;
  });

  it('lets a server read a passphrase only when the secret’s tag equals its role’s tag', () => {
    const policy = onlyResource(template, 'AWS::IAM::ManagedPolicy');
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const read = statements.find(
      (st) => st.Sid === 'ReadPassphrasesTaggedForThisServer',
    ) as Statement;
    expect(actionsOf(read)).toEqual(['secretsmanager:GetSecretValue']);
    expect(resourcesOf(read).map(flat)).toEqual([arn('secretsmanager', 'secret:acm-passphrase/*')]);
    expect(read.Condition).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, kept literal
      StringEquals: { 'aws:ResourceTag/env': '${aws:PrincipalTag/env}' },
    });
    const decrypt = statements.find((st) => st.Sid === 'DecryptThroughSecretsManager') as Statement;
    expect(actionsOf(decrypt)).toEqual(['kms:Decrypt']);
    expect(resourcesOf(decrypt)).toEqual([kmsKey]);
  });

  it('follows the configured tag key', () => {
    const [policy] = Object.values(
      synth({ targetTagKey: 'team' }).template.findResources('AWS::IAM::ManagedPolicy'),
    );
    expect(JSON.stringify(policy)).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, kept literal
      '"aws:ResourceTag/team":"${aws:PrincipalTag/team}"',
    );
  });

  it('is attached to the example EC2 instance role and on-premises service role, both tagged', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
      JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes(
        'ServerAccessPassphraseReadPolicy',
      ),
    );
    const trusts = roles.map((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument));
    expect(trusts).toHaveLength(2);
    expect(trusts.filter((t) => t.includes('"ec2.amazonaws.com"'))).toHaveLength(1);
    const hybrid = trusts.find((t) => t.includes('"ssm.amazonaws.com"'));
    expect(hybrid).toContain('"aws:SourceAccount":"123456789012"');
    for (const role of roles)
      expect(role.Properties.Tags).toContainEqual({ Key: 'env', Value: 'dev' });
    template.resourceCountIs('AWS::IAM::InstanceProfile', 1);
  });

  it('is not accompanied by example roles unless asked for', () => {
    const roles = Object.values(synth().template.findResources('AWS::IAM::Role'));
    expect(roles.some((r) => JSON.stringify(r).includes('ServerAccessPassphraseReadPolicy'))).toBe(
      false,
    );
  });
});

describe('the API function role (apigateway mode)', () => {
  it('records, enqueues, deletes unmanaged passphrases and reads for dry runs, but neither exports nor runs commands', () => {
    const { template } = synth({ apiMode: 'apigateway' });
    const fn = onlyResource(template, 'AWS::Lambda::Function');
    const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const s = bySid(statementsOfRole(template, roleId));
    expect(Object.keys(s).sort()).toEqual([
      'DeletePassphrasesOfUnmanagedTargets',
      'DescribeAllowedCertificates',
      'EnqueueJobs',
      'ListEveryMapping',
      'ListManagedNodes',
      'ReadWriteMappingsAndDeploymentRecords',
      'ReadWritePerServerItems',
      'WriteOwnLogs',
    ]);
    expect(actionsOf(s.DescribeAllowedCertificates as Statement)).toEqual([
      'acm:DescribeCertificate',
    ]);
    expect(actionsOf(s.ListManagedNodes as Statement)).toEqual(['ssm:DescribeInstanceInformation']);
    const every = Object.values(s).flatMap((st) => actionsOf(st as Statement));
    for (const never of [
      'acm:ExportCertificate',
      'ssm:SendCommand',
      'secretsmanager:PutSecretValue',
    ]) {
      expect(every).not.toContain(never);
    }
    expect(actionsOf(s.EnqueueJobs as Statement).sort()).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:SendMessage',
    ]);
    expect(actionsOf(s.DeletePassphrasesOfUnmanagedTargets as Statement)).toEqual([
      'secretsmanager:DeleteSecret',
    ]);
    expect(resourcesOf(s.DeletePassphrasesOfUnmanagedTargets as Statement).map(flat)).toEqual([
      arn('secretsmanager', 'secret:acm-passphrase/*'),
    ]);
    expect(resourcesOf(s.WriteOwnLogs as Statement).map(flat)).toEqual([
      expect.stringMatching(/^<ApiFunctionLogs[0-9A-F]+\.Arn>$/),
      expect.stringMatching(/^<ApiFunctionLogs[0-9A-F]+\.Arn>:log-stream:\*$/),
    ]);
    // The API never updates an item (records are written whole; mappings only read and deleted).
    // It lists a certificate's records through their keys-only index, then reads them in batches.
    expect(actionsOf(s.ReadWriteMappingsAndDeploymentRecords as Statement).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
  });

  it('leaves the task role, which then runs the worker alone, without the API’s own actions', () => {
    const { template } = synth({ apiMode: 'apigateway' });
    const s = bySid(statementsOfRole(template, roleOfTaskDefinition(template, 'TaskRoleArn')));
    const tables = actionsOf(s.ReadWriteMappingsAndDeploymentRecords as Statement);
    expect(tables).toContain('dynamodb:UpdateItem');
    expect(tables).not.toContain('dynamodb:Scan');
    expect(actionsOf(s.ConsumeTheJobQueue as Statement)).not.toContain('sqs:GetQueueAttributes');
    // The worker's daily expiry check walks the mappings: a Scan of that table alone.
    expect(actionsOf(s.ListEveryMapping as Statement)).toEqual(['dynamodb:Scan']);
    expect(resourcesOf(s.ListEveryMapping as Statement).map(flat)).toEqual([
      expect.stringMatching(/^<TablesMappings[0-9A-F]+\.Arn>$/),
    ]);
  });
});
