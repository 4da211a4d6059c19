import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { fromThisStacksAlarms } from './alarms.ts';

/**
 * The customer key for operational data: the log groups and the alarm topic. A customer key
 * (not an AWS-managed one) because CloudWatch alarms can only publish to an encrypted topic whose
 * key policy lets cloudwatch.amazonaws.com use the key, and AWS-managed key policies cannot change.
 *
 * Each statement for a service principal is bound to this account (confused deputy): the
 * alarms' by aws:SourceAccount and aws:SourceArn (this stack's alarms), CloudWatch Logs' by the
 * encryption context naming this account's log groups, the scoping AWS documents for it.
 */
export function createOperationsKey(
  scope: Construct,
  id: string,
  options: {
    /** AWS charges $1/month for each of the first two rotations: a longer period costs less. */
    readonly rotationDays: number;
  },
): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, id, {
    description: 'acm-cert-export: log groups and the alarm topic',
    enableKeyRotation: true,
    rotationPeriod: Duration.days(options.rotationDays),
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsUseForThisAccountLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:DescribeKey',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
        // IfExists: AWS documents the encryption context, not aws:SourceAccount, for CloudWatch
        // Logs' use of a key; should a request carry the key, it must still name this account,
        // and a request without it (the documented case) is not refused.
        StringEqualsIfExists: { 'aws:SourceAccount': stack.account },
      },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: fromThisStacksAlarms(scope),
    }),
  );
  return key;
}
