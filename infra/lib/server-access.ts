import { Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { passphraseSecretArn } from './iam-policies.ts';
import { acknowledge, wildcardResourceFinding } from './nag.ts';

export interface ServerAccessProps {
  readonly targetTagKey: string;
  readonly secretPrefix: string;
  readonly secretsKmsKeyArn?: string;
  /** When set, example roles tagged `<targetTagKey>=<value>` are created to copy from. */
  readonly exampleRoleTagValue?: string;
}

/**
 * What the servers themselves need: read the export passphrase of the certificates meant for
 * them. Attribute-based: a role tagged `env=dev` reads only secrets tagged `env=dev` (the service
 * tags each passphrase secret with the deployment's target tag). The same managed policy serves
 * EC2 instance roles and the service role of on-premises (hybrid activation) managed nodes.
 */
export class ServerAccess extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ServerAccessProps) {
    super(scope, id);
    const key = props.targetTagKey;
    const secrets = passphraseSecretArn(this, props.secretPrefix);
    this.policy = new iam.ManagedPolicy(this, 'PassphraseReadPolicy', {
      description: `Servers read acm-cert-export passphrases whose ${key} tag equals their role's ${key} tag`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadPassphrasesTaggedForThisServer',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secrets],
          // The global key: the service authorization reference lists aws:ResourceTag/${TagKey}
          // for GetSecretValue on a secret, and the policy evaluation of the test bed knows it
          // (the service-specific secretsmanager:ResourceTag/<key> is equivalent on AWS).
          conditions: {
            StringEquals: { [`aws:ResourceTag/${key}`]: `\${aws:PrincipalTag/${key}}` },
          },
        }),
        ...(props.secretsKmsKeyArn === undefined
          ? []
          : [
              new iam.PolicyStatement({
                sid: 'DecryptThroughSecretsManager',
                actions: ['kms:Decrypt'],
                resources: [props.secretsKmsKeyArn],
                conditions: {
                  StringLike: { 'kms:ViaService': 'secretsmanager.*.amazonaws.com' },
                },
              }),
            ]),
      ],
    });
    acknowledge(
      this.policy,
      wildcardResourceFinding(this, secrets),
      'Passphrase secrets are created per deployment target at run time; which ones a server reads is decided by the ABAC condition (secret tag equals role tag), not by name.',
    );
    if (props.exampleRoleTagValue !== undefined) this.exampleRoles(key, props.exampleRoleTagValue);
  }

  /** An EC2 instance role (with profile) and an on-premises service role, ready to use. */
  private exampleRoles(key: string, value: string): void {
    const core = iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore');
    const ec2Role = new iam.Role(this, 'ExampleInstanceRole', {
      description: `Example EC2 role for servers tagged ${key}=${value}`,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [core, this.policy],
    });
    new iam.InstanceProfile(this, 'ExampleInstanceProfile', { role: ec2Role });
    const hybridRole = new iam.Role(this, 'ExampleOnPremisesRole', {
      description: `Example hybrid-activation service role for servers tagged ${key}=${value}`,
      assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': ec2Role.stack.account } },
      }),
      managedPolicies: [core, this.policy],
    });
    for (const role of [ec2Role, hybridRole]) {
      // The principal tag the ABAC condition compares with the secret's tag.
      Tags.of(role).add(key, value);
      acknowledge(
        role,
        'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for SSM Agent (registration, Run Command channel); a copy would drift from what the agent needs.',
      );
    }
  }
}
