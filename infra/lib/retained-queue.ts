import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A queue that already exists under its name (kept when a stack of this app was deleted),
 * imported rather than created: CloudFormation refuses to create a queue whose name exists.
 *
 * CDK's `Queue.fromQueueAttributes` would drop every resource-policy statement silently (its
 * imported queues never create a policy), and the deleted stack's queue policy went with it:
 * EventBridge could no longer deliver renewals. Here the statements (the TLS-only Deny, the
 * rules' EventBridge grants) go into a queue policy this stack owns, as on a queue it created.
 * The queue keeps its own attributes (SSE-SQS, retention, redrive to the DLQ): the stack that
 * created it set them, this one does not change them.
 */
export class RetainedQueue extends sqs.QueueBase {
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly queueName: string;
  readonly encryptionMasterKey = undefined;
  readonly fifo = false;
  readonly encryptionType = sqs.QueueEncryption.SQS_MANAGED;
  protected readonly autoCreatePolicy = true;

  constructor(scope: Construct, id: string, queueName: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.queueName = queueName;
    this.queueArn = stack.formatArn({
      service: 'sqs',
      resource: queueName,
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    });
    this.queueUrl = `https://sqs.${stack.region}.${stack.urlSuffix}/${stack.account}/${queueName}`;
    // What `enforceSSL: true` adds to a queue the stack creates.
    this.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sqs:*'],
        resources: [this.queueArn],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  }
}
