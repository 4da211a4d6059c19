/**
 * cdk-nag (v3: a CDK validation plugin; findings are acknowledged through CDK's
 * `Validations.of(construct).acknowledge`). Imported once here: it is CommonJS whose re-exports
 * Node's ESM loader cannot see as named exports.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import flatten from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

export const { AwsSolutionsChecks } = cdkNag;

/** Acknowledges one AwsSolutions finding on `construct` (and everything under it). */
export function acknowledge(construct: IConstruct, rule: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/**
 * The id cdk-nag gives an IAM5 finding for a wildcard resource: the ARN with its
 * CloudFormation references flattened (`arn:<AWS::Partition>:…`).
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `IAM5[Resource::${flatten.flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}
