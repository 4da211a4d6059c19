import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Every log group of the stack: encrypted with the operations key, with a fixed retention. */
export function encryptedLogGroup(
  scope: Construct,
  id: string,
  props: { readonly key: kms.IKey; readonly retentionDays: number },
): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    encryptionKey: props.key,
    // Checked against logRetentionChoices in settings.ts: the cast names a valid enum value.
    retention: props.retentionDays as logs.RetentionDays,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
