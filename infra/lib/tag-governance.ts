/**
 * Tag governance for the servers' ABAC: who may read a passphrase follows from two tags, the
 * role's IAM tag `<targetTagKey>` and the secret's tag, so changing either must be reserved to
 * a few. The Deny statements are plain data (the SCP JSON in docs/deploy.md is this function's
 * output, a test compares them); the construct wraps them in a managed policy meant as a
 * permissions boundary.
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';

export interface TagGovernanceParams {
  readonly targetTagKey: string;
  /** ARN pattern of the passphrase secrets: `arn:…:secret:acm-passphrase/*`. */
  readonly passphraseSecrets: string;
  /** Roles that may still set or remove the tags (role ARNs; `*` wildcards allowed). */
  readonly adminRoleArns: readonly string[];
  /** The service's task role: it creates the passphrase secrets with their tag. */
  readonly serviceRoleArn: string;
}

export interface PolicyDocumentJson {
  readonly Version: '2012-10-17';
  readonly Statement: readonly Record<string, unknown>[];
}

/**
 * The Deny statements. Tag keys compare ignoring case: IAM treats `Env` and `env` as one key in
 * `aws:PrincipalTag`, so a role tagged `ENV=prod` must be refused like one tagged `env=prod`.
 */
export function tagGovernanceStatements(p: TagGovernanceParams): Record<string, unknown>[] {
  const theTargetKey = {
    'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': [p.targetTagKey] },
  };
  const exceptAdmins = { ArnNotLike: { 'aws:PrincipalArn': [...p.adminRoleArns] } };
  return [
    {
      // Which secrets a server's role may read (ABAC on aws:PrincipalTag); a user given the
      // server policy would read by its own tag the same way.
      Sid: 'DenyChangingTheTargetTagOfRolesAndUsers',
      Effect: 'Deny',
      Action: [
        'iam:CreateRole',
        'iam:TagRole',
        'iam:UntagRole',
        'iam:CreateUser',
        'iam:TagUser',
        'iam:UntagUser',
      ],
      Resource: '*',
      Condition: { ...theTargetKey, ...exceptAdmins },
    },
    {
      // A session tag overrides the role's tag in aws:PrincipalTag: none of this key, then.
      Sid: 'DenySessionTagsOfTheTargetTagKey',
      Effect: 'Deny',
      Action: 'sts:TagSession',
      Resource: '*',
      Condition: { ...theTargetKey, ...exceptAdmins },
    },
    {
      // Which servers a passphrase secret is readable by: its tag, set by the service alone.
      Sid: 'DenyRetaggingPassphraseSecrets',
      Effect: 'Deny',
      Action: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
      Resource: p.passphraseSecrets,
      Condition: {
        ArnNotLike: { 'aws:PrincipalArn': [...p.adminRoleArns, p.serviceRoleArn] },
      },
    },
  ];
}

/**
 * As a service control policy (Organizations, attached from the management account to the
 * account or its OU): the Deny statements alone; FullAWSAccess or another SCP allows the rest.
 */
export function tagGovernanceScp(p: TagGovernanceParams): PolicyDocumentJson {
  return { Version: '2012-10-17', Statement: tagGovernanceStatements(p) };
}

/**
 * As a permissions boundary: a boundary caps what identity policies grant, so it allows
 * everything and then denies the tag changes; attached to a role, it grants nothing by itself.
 */
export function tagGovernanceBoundary(p: TagGovernanceParams): PolicyDocumentJson {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'BoundaryAllowsWhatIdentityPoliciesGrant',
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
      },
      ...tagGovernanceStatements(p),
    ],
  };
}

export interface TagGovernanceProps extends Omit<TagGovernanceParams, 'serviceRoleArn'> {
  readonly serviceRole: iam.IRole;
}

/**
 * The optional tag-governance boundary (`-c tagGovernance=true`): a managed policy to set as the
 * permissions boundary of the roles and users that may manage IAM or secrets but must not decide
 * who reads passphrases. docs/deploy.md has the same statements as an SCP for the whole account.
 */
export class TagGovernance extends Construct {
  readonly boundary: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: TagGovernanceProps) {
    super(scope, id);
    this.boundary = new iam.ManagedPolicy(this, 'Boundary', {
      description:
        'acm-cert-export tag governance: a permissions boundary that denies changing the target tag on roles and sessions, and the passphrase secrets’ tags, except to the named administrators and the service',
      document: iam.PolicyDocument.fromJson(
        tagGovernanceBoundary({ ...props, serviceRoleArn: props.serviceRole.roleArn }),
      ),
    });
    acknowledge(
      this.boundary,
      'IAM5[Action::*]',
      'A permissions boundary: its Allow * caps nothing and grants nothing by itself (a boundary only limits what identity policies grant); its Deny statements are the point.',
    );
    acknowledge(
      this.boundary,
      'IAM5[Resource::*]',
      'A permissions boundary: its Allow * on * grants nothing by itself; the Deny statements on * cover every role and session, as they must.',
    );
    new CfnOutput(Stack.of(this), 'TagGovernanceBoundaryArn', {
      value: this.boundary.managedPolicyArn,
      description:
        'Set as the permissions boundary of roles that manage IAM or secrets (docs/deploy.md, Tag governance).',
    });
    new CfnOutput(Stack.of(this), 'ServiceTaskRoleArn', {
      value: props.serviceRole.roleArn,
      description: 'The task role, exempt from the tag governance of the passphrase secrets.',
    });
  }
}
