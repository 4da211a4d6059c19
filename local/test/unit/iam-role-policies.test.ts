import { describe, expect, it } from 'vitest';
import { type Template, UnresolvableIntrinsicError } from '../../iam/intrinsics.ts';
import { grantsOf, modePolicies, TemplatePolicyError } from '../../iam/role-policies.ts';

const env = { account: '123456789012', region: 'us-east-1', stackName: 'AcmCertExport' };
const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });

/** The shape CDK synthesizes, reduced to what the extraction reads. */
function aTemplate(extra: Template['Resources'] = {}): Template {
  return {
    Resources: {
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'CertTagMapping' } },
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'acm-cert-export-jobs' } },
      TaskRole: { Type: 'AWS::IAM::Role', Properties: {} },
      TaskDefinition: {
        Type: 'AWS::ECS::TaskDefinition',
        Properties: { TaskRoleArn: { 'Fn::GetAtt': ['TaskRole', 'Arn'] } },
      },
      TaskPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'TaskRole' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'Tables',
                Effect: 'Allow',
                Action: ['dynamodb:GetItem', 'dynamodb:Query'],
                Resource: [
                  { 'Fn::GetAtt': ['Table', 'Arn'] },
                  join({ 'Fn::GetAtt': ['Table', 'Arn'] }, '/index/*'),
                ],
              },
              {
                Effect: 'Allow',
                Action: 'sqs:SendMessage',
                Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] },
              },
              {
                Sid: 'Certificates',
                Effect: 'Allow',
                Action: 'acm:ExportCertificate',
                Resource: join(
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':acm:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':certificate/*',
                ),
              },
            ],
          },
        },
      },
      ServerAccessPolicy: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' },
            ],
          },
        },
      },
      ...extra,
    },
  };
}

describe('the policies of the service’s roles, from a template', () => {
  it('resolves the intrinsics to the bed’s ARNs', () => {
    const { roles } = modePolicies('alb', aTemplate(), env);
    const [policy] = roles.taskRole?.policies ?? [];
    expect(policy?.policy.Statement.map((s) => s.Resource)).toEqual([
      [
        'arn:aws:dynamodb:us-east-1:123456789012:table/CertTagMapping',
        'arn:aws:dynamodb:us-east-1:123456789012:table/CertTagMapping/index/*',
      ],
      'arn:aws:sqs:us-east-1:123456789012:acm-cert-export-jobs',
      'arn:aws:acm:us-east-1:123456789012:certificate/*',
    ]);
    expect(roles.apiFunctionRole).toBeUndefined();
  });

  it('lists each (statement, action) the role grants, naming statements without a Sid', () => {
    const { roles } = modePolicies('alb', aTemplate(), env);
    expect(grantsOf(roles.taskRole ?? { role: 'taskRole', logicalId: '', policies: [] })).toEqual([
      { sid: 'Tables', action: 'dynamodb:GetItem' },
      { sid: 'Tables', action: 'dynamodb:Query' },
      { sid: 'TaskPolicy#1', action: 'sqs:SendMessage' },
      { sid: 'Certificates', action: 'acm:ExportCertificate' },
    ]);
  });

  it('finds the API function’s role in apigateway mode', () => {
    const template = aTemplate({
      ApiRole: { Type: 'AWS::IAM::Role', Properties: {} },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Handler: 'index.handler', Role: { 'Fn::GetAtt': ['ApiRole', 'Arn'] } },
      },
      WakerRole: { Type: 'AWS::IAM::Role', Properties: {} },
      Waker: {
        Type: 'AWS::Lambda::Function',
        Properties: { Handler: 'waker.handler', Role: { 'Fn::GetAtt': ['WakerRole', 'Arn'] } },
      },
      ApiPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'ApiRole' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 'sqs:SendMessage',
                Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] },
              },
            ],
          },
        },
      },
    });
    const { roles } = modePolicies('apigateway', template, env);
    expect(roles.apiFunctionRole?.logicalId).toBe('ApiRole');
    expect(roles.apiFunctionRole?.policies.map((p) => p.name)).toEqual(['ApiPolicy']);
    // The scale-to-zero waker's function, told apart by its handler, has its own role.
    expect(roles.wakerFunctionRole?.logicalId).toBe('WakerRole');
    expect(roles.wakerFunctionRole?.policies).toEqual([]);
  });

  it('refuses what it cannot model rather than evaluating less than AWS would', () => {
    const managed = aTemplate({
      TaskRole: {
        Type: 'AWS::IAM::Role',
        Properties: { ManagedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] },
      },
    });
    expect(() => modePolicies('alb', managed, env)).toThrow(TemplatePolicyError);
    const unnamed = aTemplate({ Table: { Type: 'AWS::DynamoDB::Table', Properties: {} } });
    expect(() => modePolicies('alb', unnamed, env)).toThrow(UnresolvableIntrinsicError);
  });
});
