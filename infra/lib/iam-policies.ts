/**
 * What the service may call, as policy statements, one function per caller. Every statement
 * names its resources; the only `*` resources are the read actions that IAM cannot scope (the
 * SSM command status, `ssmReadStatement`, and ec2:DescribeInstances), each in a policy of its own
 * (`grantStatements`). The template tests walk every statement of the stack.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct, IConstruct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from './nag.ts';

export interface ServiceGrantsProps {
  readonly mappingTableArn: string;
  readonly deploymentsTableArn: string;
  readonly serversTableArn: string;
  readonly queueArn: string;
  readonly deadLetterQueueArn: string;
  readonly documentName: string;
  readonly targetTagKey: string;
  readonly secretPrefix: string;
  /** Empty: every certificate in the stack's account and region (or `certificateRegions`). */
  readonly allowedCertificateArns: readonly string[];
  /** Regions whose certificates the service exports; empty: the stack's own. */
  readonly certificateRegions: readonly string[];
  readonly secretsKmsKeyArn?: string;
  /** The alarm topic, where the worker's expiry check also publishes its notifications. */
  readonly notificationTopicArn: string;
  /** The key encrypting that topic (the operations key). */
  readonly notificationKeyArn: string;
}

/**
 * SSM actions whose IAM resource type list is empty: the service authorization reference lists
 * no resource for ListCommands, ListCommandInvocations and DescribeInstanceInformation, so a
 * statement naming anything but `*` never matches: the worker could not poll its own commands,
 * nor see whether the agent of a server that just started is online.
 */
export const ssmActionsRequiringWildcard = [
  'ssm:ListCommands',
  'ssm:ListCommandInvocations',
  'ssm:DescribeInstanceInformation',
] as const;

/**
 * The certificates the service may describe and export: the allow-list when there is one, else
 * every certificate of the account in each of `regions` (the stack's own when empty).
 */
export function certificateArns(
  scope: Construct,
  allowed: readonly string[],
  regions: readonly string[] = [],
): string[] {
  if (allowed.length > 0) return [...allowed];
  const stack = Stack.of(scope);
  const arnIn = (region?: string) =>
    stack.formatArn({
      service: 'acm',
      resource: 'certificate',
      resourceName: '*',
      ...(region === undefined ? {} : { region }),
    });
  return regions.length === 0 ? [arnIn()] : regions.map((region) => arnIn(region));
}

export function passphraseSecretArn(scope: Construct, prefix: string): string {
  // Secrets Manager appends "-XXXXXX" to a secret's name in its ARN: `prefix*` covers it.
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

function tableResources(...tableArns: string[]): string[] {
  return tableArns.flatMap((arn) => [arn, `${arn}/index/*`]);
}

function acmStatement(scope: Construct, props: ServiceGrantsProps, actions: string[]) {
  return new iam.PolicyStatement({
    sid: 'ExportAllowedCertificates',
    actions,
    resources: certificateArns(scope, props.allowedCertificateArns, props.certificateRegions),
  });
}

/**
 * The two tables, with the actions the callers use: the worker updates mappings (lock, outcome);
 * the API never updates an item. Neither scans them (see `scanMappingsStatement`).
 */
function tablesStatement(props: ServiceGrantsProps, caller: { worker: boolean }) {
  return new iam.PolicyStatement({
    sid: 'ReadWriteMappingsAndDeploymentRecords',
    actions: [
      'dynamodb:GetItem',
      // A certificate's deployment records, listed through their keys-only index.
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      ...(caller.worker ? ['dynamodb:UpdateItem'] : []),
      'dynamodb:DeleteItem',
      'dynamodb:Query',
    ],
    resources: tableResources(props.mappingTableArn, props.deploymentsTableArn),
  });
}

/**
 * Per-server items: a job's results and what each server of a mapping holds, read a partition at
 * a time (Query) and written 25 at a time (BatchWriteItem: puts, and the deletes of stop-managing).
 */
function serversStatement(props: ServiceGrantsProps) {
  return new iam.PolicyStatement({
    sid: 'ReadWritePerServerItems',
    actions: ['dynamodb:Query', 'dynamodb:BatchWriteItem'],
    resources: [props.serversTableArn],
  });
}

/**
 * The one Scan: of the mappings table itself (no index, never the deployment records), by the
 * API's listing of mappings and the worker's daily expiry check, each a paged walk of them all.
 */
function scanMappingsStatement(props: ServiceGrantsProps) {
  return new iam.PolicyStatement({
    sid: 'ListEveryMapping',
    actions: ['dynamodb:Scan'],
    resources: [props.mappingTableArn],
  });
}

/** Passphrase secrets: only under the prefix, and only created carrying the target tag (ABAC). */
function secretStatements(scope: Construct, props: ServiceGrantsProps): iam.PolicyStatement[] {
  const secrets = passphraseSecretArn(scope, props.secretPrefix);
  const mustCarryTargetTag = { Null: { [`aws:RequestTag/${props.targetTagKey}`]: 'false' } };
  const statements = [
    new iam.PolicyStatement({
      sid: 'CreatePassphraseSecretsWithTheTargetTag',
      // CreateSecret with Tags also needs TagResource; both demand the target tag so that every
      // passphrase secret is readable by exactly the servers it was exported for.
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      resources: [secrets],
      conditions: mustCarryTargetTag,
    }),
    new iam.PolicyStatement({
      sid: 'UsePassphraseSecrets',
      actions: [
        'secretsmanager:PutSecretValue',
        'secretsmanager:GetSecretValue',
        'secretsmanager:DeleteSecret',
        // A target managed again after stop-managing: its secret is scheduled for deletion and
        // refuses new versions until restored (it keeps its tags).
        'secretsmanager:RestoreSecret',
      ],
      resources: [secrets],
    }),
  ];
  if (props.secretsKmsKeyArn !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'EncryptPassphrasesThroughSecretsManager',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.secretsKmsKeyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com`,
          },
        },
      }),
    );
  }
  return statements;
}

function sendCommandStatements(scope: Construct, props: ServiceGrantsProps): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  return [
    new iam.PolicyStatement({
      sid: 'RunTheInstallDocument',
      actions: ['ssm:SendCommand'],
      resources: [
        stack.formatArn({ service: 'ssm', resource: 'document', resourceName: props.documentName }),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'OnServersCarryingTheTargetTagKey',
      actions: ['ssm:SendCommand'],
      resources: [
        stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
        stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
      ],
      conditions: { Null: { [`ssm:resourceTag/${props.targetTagKey}`]: 'false' } },
    }),
  ];
}

/**
 * The expiry check's notifications: publish to the one topic, which is encrypted, so SNS uses its
 * key with the publisher's permissions (generate a data key, decrypt it), through SNS only.
 */
function notificationStatements(
  scope: Construct,
  props: ServiceGrantsProps,
): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'PublishNotifications',
      actions: ['sns:Publish'],
      resources: [props.notificationTopicArn],
    }),
    new iam.PolicyStatement({
      sid: 'EncryptNotificationsThroughSns',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [props.notificationKeyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `sns.${Stack.of(scope).region}.amazonaws.com` },
      },
    }),
  ];
}

/** The only statement with a `*` resource; why is on `ssmActionsRequiringWildcard`. */
export function ssmReadStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadCommandStatus',
    actions: [...ssmActionsRequiringWildcard],
    resources: ['*'],
  });
}

/**
 * The ECS task: the worker, and the API when it runs in the same container (`servesApi`: the
 * readiness check's GetQueueAttributes is the API's alone).
 */
export function workerStatements(
  scope: Construct,
  props: ServiceGrantsProps,
  options: { servesApi: boolean },
): iam.PolicyStatement[] {
  return [
    acmStatement(scope, props, ['acm:DescribeCertificate', 'acm:ExportCertificate']),
    ...secretStatements(scope, props),
    tablesStatement(props, { worker: true }),
    serversStatement(props),
    scanMappingsStatement(props),
    new iam.PolicyStatement({
      sid: 'ConsumeTheJobQueue',
      actions: [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        ...(options.servesApi ? ['sqs:GetQueueAttributes'] : []),
        'sqs:SendMessage',
      ],
      resources: [props.queueArn],
    }),
    new iam.PolicyStatement({
      sid: 'MoveFailedJobsToTheDeadLetterQueue',
      actions: ['sqs:SendMessage'],
      resources: [props.deadLetterQueueArn],
    }),
    ...sendCommandStatements(scope, props),
    ssmReadStatement(),
    // A job that times out cancels its command (wildcard-only in IAM: no resource, no condition).
    new iam.PolicyStatement({
      sid: 'CancelTimedOutCommands',
      actions: ['ssm:CancelCommand'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'DescribeStartedServers',
      actions: ['ec2:DescribeInstances'],
      resources: ['*'],
    }),
    ...notificationStatements(scope, props),
  ];
}

/**
 * The API alone (the Lambda function in apigateway mode), as service/src/api/dependencies.ts
 * narrows its ports: it records and enqueues jobs, reads records and mappings (status comes from
 * the records, not from SSM), deletes a mapping's passphrase secret when a target is no longer
 * managed, checks readiness (GetQueueAttributes, GetItem) and, for dry runs, describes the
 * certificate and lists the target's managed nodes. Exporting and running commands stay with
 * the worker.
 */
export function apiStatements(scope: Construct, props: ServiceGrantsProps): iam.PolicyStatement[] {
  return [
    tablesStatement(props, { worker: false }),
    serversStatement(props),
    scanMappingsStatement(props),
    new iam.PolicyStatement({
      sid: 'EnqueueJobs',
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
      resources: [props.queueArn],
    }),
    new iam.PolicyStatement({
      sid: 'DeletePassphrasesOfUnmanagedTargets',
      actions: ['secretsmanager:DeleteSecret'],
      resources: [passphraseSecretArn(scope, props.secretPrefix)],
    }),
    // Dry runs (POST /v1/deployments/dry-run): what ACM says of the certificate, which nodes
    // the tag reaches. Never an export, never a command.
    new iam.PolicyStatement({
      sid: 'DescribeAllowedCertificates',
      actions: ['acm:DescribeCertificate'],
      resources: certificateArns(scope, props.allowedCertificateArns, props.certificateRegions),
    }),
    new iam.PolicyStatement({
      sid: 'ListManagedNodes',
      actions: ['ssm:DescribeInstanceInformation'],
      resources: ['*'],
    }),
  ];
}

/**
 * Why each statement that has a wildcard in a resource needs it, by statement id. The reason is
 * the cdk-nag acknowledgement written next to the role that gets the statement.
 */
export const wildcardResourceReasons: Readonly<Record<string, string>> = {
  ExportAllowedCertificates:
    'Certificates are chosen per request; the resource is the configured allow-list (allowedCertificateArns), by default every certificate of this account in the stack’s region (or the regions of certificateRegions), which the service narrows again with ALLOWED_CERTIFICATE_ARNS.',
  ReadWriteMappingsAndDeploymentRecords:
    'index/* covers the GSIs of these two tables only (the certificate-ARN indexes); the tables themselves are named.',
  CreatePassphraseSecretsWithTheTargetTag:
    'One secret per deployment target under acm-passphrase/, named at run time; Secrets Manager appends a random suffix to every secret ARN.',
  UsePassphraseSecrets:
    'One secret per deployment target under acm-passphrase/, named at run time; Secrets Manager appends a random suffix to every secret ARN.',
  DeletePassphrasesOfUnmanagedTargets:
    'The secret of the mapping being removed is named at run time under acm-passphrase/; Secrets Manager appends a random suffix to every secret ARN.',
  OnServersCarryingTheTargetTagKey:
    'Target servers are chosen by tag at run time; the statement is limited to instances and managed nodes that carry the target tag key (ssm:resourceTag condition).',
  DescribeAllowedCertificates:
    'Dry runs describe the certificate of the request; the resource is the configured allow-list (allowedCertificateArns), by default every certificate of this account in the regions the service exports from.',
  ListManagedNodes:
    'ssm:DescribeInstanceInformation supports no resource-level permissions: IAM only accepts * for it. A dry run lists the managed nodes of its target tag.',
  CancelTimedOutCommands:
    'ssm:CancelCommand supports no resource-level permissions and no condition keys: IAM only accepts * for it. The worker cancels the command of a job that timed out.',
  ReadCommandStatus:
    'ssm:ListCommands, ssm:ListCommandInvocations and ssm:DescribeInstanceInformation support no resource-level permissions: IAM only accepts * for them.',
  DescribeStartedServers:
    'ec2:DescribeInstances supports no resource-level permissions: IAM only accepts * for it. The worker reads the tags of an instance that entered running.',
  WriteOwnLogs: 'Log streams get generated names inside this function’s own log group.',
};

/**
 * Adds the statements to the role and acknowledges each wildcard resource with its reason from
 * `wildcardResourceReasons`. A wildcard without a reason fails the synth.
 *
 * A statement whose resource is `*` gets a policy of its own: cdk-nag names every such finding
 * `IAM5[Resource::*]`, so on one policy the reasons of two statements would be one
 * acknowledgement (the last one written). On its own policy each keeps its own reason.
 */
export function grantStatements(role: iam.IRole, statements: readonly iam.PolicyStatement[]): void {
  for (const statement of statements) {
    const wildcards = statement.resources.filter((r) => r.includes('*'));
    const reason = statement.sid === undefined ? undefined : wildcardResourceReasons[statement.sid];
    if (wildcards.length > 0 && reason === undefined) {
      throw new Error(
        `statement ${statement.sid ?? '(no sid)'} has a wildcard resource without a reason`,
      );
    }
    let holder: IConstruct = role;
    if (statement.resources.includes('*')) {
      holder = new iam.Policy(role as unknown as Construct, `${statement.sid}Policy`, {
        statements: [statement],
        roles: [role],
      });
    } else {
      role.addToPrincipalPolicy(statement);
    }
    for (const resource of wildcards) {
      acknowledge(holder, wildcardResourceFinding(holder, resource), reason as string);
    }
  }
}
