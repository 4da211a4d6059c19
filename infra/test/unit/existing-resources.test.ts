import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type Template as CfnTemplate, resolveIntrinsics } from '../../../local/iam/intrinsics.ts';
import { AwsSolutionsChecks } from '../../lib/nag.ts';
import { jobQueue } from '../../lib/resource-definitions.ts';
import { onlyResource } from './support/policies.ts';
import { type Synthesized, synth, testAccount, testRegion } from './support/synth.ts';

// Deleting the stack keeps its tables and queues (and their data: mappings, records, waiting
// jobs). Deploying it again with the same names must use them, not fail on names that exist:
// existingResources imports them. These tests compare that redeployed stack with the first one.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const env = { account: testAccount, region: testRegion, stackName: 'AcmCertExport' };
const redeployed = { existingResources: 'mappingTable,deploymentsTable,serversTable,queues' };

let first: Synthesized;
let again: Synthesized;
beforeAll(() => {
  first = synth();
  again = synth(redeployed);
});

const cfn = (t: Template) => t.toJSON() as CfnTemplate;
const resolve = (t: Template, value: unknown) => resolveIntrinsics(value, cfn(t), env);

/**
 * The task role's statements with the tables' and queues' ARNs resolved (a created one is a
 * Fn::GetAtt, an imported one a formatted ARN). A statement naming nothing the bed resolves
 * stays as written: the same in both stacks.
 */
function taskRoleStatements(t: Template): unknown[] {
  const definition = onlyResource(t, 'AWS::ECS::TaskDefinition').Properties;
  const roleId = (definition.TaskRoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0] as string;
  return Object.values(cfn(t).Resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]),
    )
    .flatMap(
      (r) =>
        (r.Properties?.PolicyDocument as { Statement?: unknown[] } | undefined)?.Statement ?? [],
    )
    .map((statement) => {
      try {
        return resolve(t, statement);
      } catch {
        return statement;
      }
    })
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function containerEnvironment(t: Template): Record<string, unknown> {
  const definition = onlyResource(t, 'AWS::ECS::TaskDefinition').Properties;
  const [container] = definition.ContainerDefinitions as {
    Environment: { Name: string; Value: unknown }[];
  }[];
  return Object.fromEntries(
    (container?.Environment ?? []).map((e) => [e.Name, resolve(t, e.Value)]),
  );
}

/** Each queue policy's statements, by the URL of the queue it is on. */
function queuePolicies(t: Template): Record<string, unknown> {
  return Object.fromEntries(
    Object.values(t.findResources('AWS::SQS::QueuePolicy')).map((p) => [
      resolve(t, (p.Properties.Queues as unknown[])[0]),
      resolve(t, p.Properties.PolicyDocument),
    ]),
  );
}

describe('the stack deployed again over its retained tables and queues (existingResources)', () => {
  it('creates no table and no queue: CloudFormation would refuse their names, which exist', () => {
    first.template.resourceCountIs('AWS::DynamoDB::Table', 3);
    first.template.resourceCountIs('AWS::SQS::Queue', 2);
    again.template.resourceCountIs('AWS::DynamoDB::Table', 0);
    again.template.resourceCountIs('AWS::SQS::Queue', 0);
  });

  it('grants the service exactly what the first stack granted, on the same tables and queues', () => {
    expect(taskRoleStatements(again.template)).toEqual(taskRoleStatements(first.template));
  });

  it('points the service at the same tables and queues', () => {
    const environment = containerEnvironment(again.template);
    expect(environment).toEqual(containerEnvironment(first.template));
    expect(environment.QUEUE_URL).toBe(
      `https://sqs.${testRegion}.amazonaws.com/${testAccount}/${jobQueue.defaultName}`,
    );
  });

  it('gives the retained queues the policies the deleted stack took with it: TLS only, EventBridge from its rules', () => {
    // The rules are new (and so are their ARNs' logical ids), so the policies are compared
    // resolved: same queues, same statements.
    const policies = queuePolicies(again.template);
    expect(Object.keys(policies).sort()).toEqual(Object.keys(queuePolicies(first.template)).sort());
    expect(policies).toEqual(queuePolicies(first.template));
    const jobs = JSON.stringify(
      policies[`https://sqs.${testRegion}.amazonaws.com/${testAccount}/${jobQueue.defaultName}`],
    );
    expect(jobs).toContain('"aws:SecureTransport":"false"');
    expect(jobs).toContain('events.amazonaws.com');
  });

  it('sends the rules’ and the schedules’ messages, and watches, the same queues', () => {
    const targets = (t: Template) => [
      ...Object.values(t.findResources('AWS::Events::Rule')).flatMap((r) =>
        (r.Properties.Targets as { Arn: unknown; DeadLetterConfig: { Arn: unknown } }[]).map(
          (target) => resolve(t, [target.Arn, target.DeadLetterConfig.Arn]),
        ),
      ),
      // Their role is new either way; where they send, and what, is what must not change.
      ...Object.values(t.findResources('AWS::Scheduler::Schedule')).map((r) =>
        ((target) => resolve(t, [target.Arn, target.DeadLetterConfig, target.Input]))(
          r.Properties.Target as Record<string, unknown>,
        ),
      ),
    ];
    expect(JSON.stringify(targets(again.template))).toBe(JSON.stringify(targets(first.template)));
    again.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: jobQueue.deadLetterName }],
    });
  });

  it('leaves cdk-nag nothing to report', () => {
    const report = new AwsSolutionsChecks(again.app).validateScope(again.stack);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`),
    ).toEqual([]);
  });
});

describe('beside the original sample', () => {
  /**
   * Every name the sample's CloudFormation gives its resources
   * (sample-acm-export-cert-automation, infra/cloudformation/acm-cert-export-setup.yaml).
   */
  const sampleNames = [
    'CertTagMapping',
    'Install-ACMCertificate',
    'acm-Export',
    'checkAndUpdateMappingAndSendSSM',
    'checkCommandStatus',
    'acmExportMachine',
    'ACMExportAPI',
  ];
  const physicalNames = (t: Template) =>
    Object.values(cfn(t).Resources).flatMap((r) =>
      Object.entries(r.Properties ?? {})
        .filter(([k, v]) => /Name$/.test(k) && typeof v === 'string')
        .map(([, v]) => v as string),
    );

  it('shares two names with it by default: the mappings table and the document', () => {
    expect(
      physicalNames(first.template)
        .filter((n) => sampleNames.includes(n))
        .sort(),
    ).toEqual(['CertTagMapping', 'Install-ACMCertificate']);
  });

  it('shares none once mappingTableName and documentName say so', () => {
    const beside = synth({
      mappingTableName: 'AcmCertExportMappings',
      documentName: 'AcmCertExport-InstallCertificate',
    }).template;
    expect(physicalNames(beside).filter((n) => sampleNames.includes(n))).toEqual([]);
  });
});
