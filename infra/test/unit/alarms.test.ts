import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { simulate } from '../../../local/iam/evaluation.ts';
import { type Template as CfnTemplate, resolveIntrinsics } from '../../../local/iam/intrinsics.ts';
import type { NamedPolicy, PolicyDocument } from '../../../local/iam/role-policies.ts';
import { expiryCheckBody } from '../../../local/scheduled-runs.ts';
import { parseMessage } from '../../../service/src/messages/parse-message.ts';
import {
  deploymentEmf,
  installedMinDaysToExpiryMetric,
  metricNamespace,
} from '../../../service/src/worker/metrics.ts';
import { deploymentMetrics } from '../../lib/alarms.ts';
import { expiryCheckSchedule, jobQueue } from '../../lib/resource-definitions.ts';
import {
  actionsOf,
  logicalIdOf,
  onlyResource,
  resourcesOf,
  type Statement,
  statementsOfRole,
} from './support/policies.ts';
import { synth, testAccount, testRegion } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** Every non-default alarm setting at once: one synthesis for all of them. */
const tuned = {
  oldestMessageAlarmSeconds: 1800,
  expiryAlarmDays: 30,
  alarmEmail: 'ops@example.com',
};

let template: Template;
let topicId: string;
beforeAll(() => {
  template = synth().template;
  topicId = logicalIdOf(template, 'AWS::SNS::Topic');
});

const ref = (id: string) => ({ Ref: id });

type AlarmProps = Record<string, unknown> & { AlarmName: string; AlarmActions?: unknown[] };

function alarmsOnTheTopic(t: Template): AlarmProps[] {
  return Object.values(t.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties as AlarmProps)
    .filter((a) => JSON.stringify(a.AlarmActions) === JSON.stringify([ref(topicId)]));
}

function alarm(id: string): AlarmProps {
  const found = alarmsOnTheTopic(template).find((a) => a.AlarmName === `AcmCertExport-${id}`);
  if (found === undefined) throw new Error(`no alarm ${id}`);
  return found;
}

describe('the alarms', () => {
  it('are the seven of docs/deploy.md, named after the stack, notifying the topic on alarm and on recovery', () => {
    const alarms = alarmsOnTheTopic(template);
    expect(alarms.map((a) => a.AlarmName).sort()).toEqual(
      [
        'DeadLetterQueueNotEmpty',
        'DeploymentsFailed',
        'DeploymentsNoTargets',
        'DeploymentsPartiallyFailed',
        'DeploymentsTimedOut',
        'InstalledCertificateExpiring',
        'OldestJobWaiting',
      ].map((id) => `AcmCertExport-${id}`),
    );
    for (const a of alarms) expect(a.OKActions).toEqual([ref(topicId)]);
  });

  it('fire on any message in the DLQ', () => {
    expect(alarm('DeadLetterQueueNotEmpty')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [
              logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: jobQueue.deadLetterName }),
              'QueueName',
            ],
          },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it.each([
    ['DeploymentsFailed', 'Failed'],
    ['DeploymentsTimedOut', 'TimedOut'],
    ['DeploymentsPartiallyFailed', 'PartiallyFailed'],
    ['DeploymentsNoTargets', 'NoTargets'],
  ] as const)(
    '%s: fires on one deployment ending %s in five minutes, the EMF metric the worker writes',
    (id, status) => {
      const a = alarm(id);
      // What the worker's outcome line holds: the metric's name and its Outcome dimension.
      const line = deploymentEmf(new Date(), status) as {
        _aws: {
          CloudWatchMetrics: [
            { Namespace: string; Dimensions: [[string]]; Metrics: [{ Name: string }] },
          ];
        };
      } & Record<string, unknown>;
      const [directive] = line._aws.CloudWatchMetrics;
      const [dimension] = directive.Dimensions[0];
      expect(a).toMatchObject({
        Namespace: directive.Namespace,
        MetricName: directive.Metrics[0].Name,
        Dimensions: [{ Name: dimension, Value: line[dimension] }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(directive.Namespace).toBe(metricNamespace);
      expect(line[dimension]).toBe(status);
    },
  );

  it('fire when a job waited longer than oldestMessageAlarmSeconds (900 s by default)', () => {
    expect(alarm('OldestJobWaiting')).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
    });
  });

  it('fire when the daily check finds an installed copy expiring within expiryAlarmDays (14 by default), keeping the state between checks', () => {
    expect(alarm('InstalledCertificateExpiring')).toMatchObject({
      Namespace: metricNamespace,
      MetricName: installedMinDaysToExpiryMetric,
      Statistic: 'Minimum',
      Threshold: 14,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
    });
    expect(deploymentMetrics.installedMinDaysToExpiry).toBe(installedMinDaysToExpiryMetric);
  });

  it('follow their settings, and e-mail someone when alarmEmail is set', () => {
    const t = synth(tuned).template;
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 1800,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: installedMinDaysToExpiryMetric,
      Threshold: 30,
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('the alarm topic policy, evaluated as AWS would', () => {
  const env = { account: testAccount, region: testRegion, stackName: 'AcmCertExport' };
  let topicArn: string;
  let policy: NamedPolicy;
  beforeAll(() => {
    const cfn = template.toJSON() as CfnTemplate;
    const [id, topicPolicy] =
      Object.entries(template.findResources('AWS::SNS::TopicPolicy'))[0] ?? [];
    if (id === undefined || topicPolicy === undefined) throw new Error('no topic policy');
    topicArn = resolveIntrinsics(ref(topicId), cfn, env) as string;
    policy = {
      name: id,
      policy: resolveIntrinsics(topicPolicy.Properties.PolicyDocument, cfn, env) as PolicyDocument,
    };
  });

  const publish = async (context: Record<string, string>) =>
    (
      await simulate(
        'cloudwatch.amazonaws.com',
        [],
        { action: 'sns:Publish', resource: topicArn, context },
        testAccount,
        policy,
      )
    ).decision;
  const fromAlarm = (name: string, account = testAccount) => ({
    'aws:SourceAccount': account,
    'aws:SourceArn': `arn:aws:cloudwatch:${testRegion}:${account}:alarm:${name}`,
    'aws:SecureTransport': 'true',
  });

  it('lets CloudWatch publish for every alarm of this stack', async () => {
    for (const a of alarmsOnTheTopic(template)) {
      expect(await publish(fromAlarm(a.AlarmName)), a.AlarmName).toBe('Allowed');
    }
  });

  it.each([
    ['an alarm of another stack in this account', fromAlarm('SomeOtherStack-Alarm')],
    [
      'an alarm of the same name in another account',
      fromAlarm('AcmCertExport-DeploymentsFailed', '210987654321'),
    ],
    [
      'a request without the source account',
      { ...fromAlarm('AcmCertExport-DeploymentsFailed'), 'aws:SourceAccount': '' },
    ],
  ])('refuses %s', async (_what, context) => {
    expect(await publish(context)).not.toBe('Allowed');
  });

  it('refuses publishing without TLS (enforceSSL)', async () => {
    expect(
      await publish({
        ...fromAlarm('AcmCertExport-DeploymentsFailed'),
        'aws:SecureTransport': 'false',
      }),
    ).toBe('ExplicitlyDenied');
  });
});

describe('the operations key policy', () => {
  let statements: Statement[];
  beforeAll(() => {
    const key = onlyResource(template, 'AWS::KMS::Key');
    statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
  });

  it('binds every statement for a service principal to this account with aws:SourceAccount', () => {
    const forServices = statements.filter((s) =>
      JSON.stringify(s.Principal ?? {}).includes('"Service"'),
    );
    expect(forServices.map((s) => s.Sid).sort()).toEqual([
      'CloudWatchAlarmsPublishToTheEncryptedTopic',
      'CloudWatchLogsUseForThisAccountLogGroups',
    ]);
    for (const s of forServices) {
      const account = Object.values(s.Condition ?? {}).map((c) => c['aws:SourceAccount']);
      expect(account, s.Sid).toContain(testAccount);
    }
  });

  it('lets CloudWatch use the key for this stack’s alarms only', () => {
    const alarms = statements.find((s) => s.Sid === 'CloudWatchAlarmsPublishToTheEncryptedTopic');
    expect(alarms?.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': testAccount },
      ArnLike: { 'aws:SourceArn': expect.anything() },
    });
    const pattern = JSON.stringify(alarms?.Condition?.ArnLike?.['aws:SourceArn']);
    expect(pattern).toContain(`:cloudwatch:${testRegion}:${testAccount}:alarm:AcmCertExport-*`);
  });
});

describe('the daily expiry check that feeds InstalledCertificateExpiring', () => {
  type Target = {
    Arn: unknown;
    RoleArn: { 'Fn::GetAtt': [string, string] };
    Input: string;
    DeadLetterConfig: { Arn: unknown };
  };
  let schedule: { ScheduleExpression: string; ScheduleExpressionTimezone: string; Target: Target };
  beforeAll(() => {
    // One of the schedules to the job queue (reconcile-schedules.test.ts has the others).
    const [expiry, ...others] = Object.values(template.findResources('AWS::Scheduler::Schedule'))
      .map((r) => r.Properties as typeof schedule)
      .filter((p) => JSON.parse(p.Target.Input ?? '{}').type === 'expiry-check');
    if (expiry === undefined || others.length > 0) throw new Error('expected one expiry check');
    schedule = expiry;
  });
  const queueArn = (name: string) => ({
    'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: name }), 'Arn'],
  });

  it('is an EventBridge Scheduler schedule, daily at 06:00 UTC, sending to the job queue', () => {
    expect(schedule.ScheduleExpression).toBe('cron(0 6 * * ? *)');
    expect(schedule.ScheduleExpressionTimezone).toBe('UTC');
    expect(schedule.Target.Arn).toEqual(queueArn(jobQueue.defaultName));
    // A run it could not deliver lands where the DeadLetterQueueNotEmpty alarm sees it.
    expect(schedule.Target.DeadLetterConfig.Arn).toEqual(queueArn(jobQueue.deadLetterName));
  });

  it('sends the expiry-check message the worker routes, the one the bed sends by hand', () => {
    expect(JSON.parse(schedule.Target.Input)).toEqual(expiryCheckSchedule.message);
    const at = new Date('2026-11-27T06:00:00Z');
    // Scheduler fills the context attribute; local/scheduled-runs.ts does the same for the bed.
    const sent = schedule.Target.Input.replace(
      '<aws.scheduler.scheduled-time>',
      '2026-11-27T06:00:00Z',
    );
    expect(sent).toBe(expiryCheckBody(at));
    expect(parseMessage(sent)).toEqual({ kind: 'expiry-check', message: JSON.parse(sent) });
  });

  it('runs as a role that Scheduler alone assumes, for this account, and that may send to the two queues only', () => {
    const roleId = schedule.Target.RoleArn['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId].Properties;
    const [trust] = role.AssumeRolePolicyDocument.Statement as Statement[];
    expect(trust?.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(trust?.Condition?.StringEquals?.['aws:SourceAccount']).toBe(testAccount);
    const statements = statementsOfRole(template, roleId);
    expect(statements.flatMap(actionsOf)).toEqual(['sqs:SendMessage', 'sqs:SendMessage']);
    expect(statements.flatMap(resourcesOf)).toEqual([
      queueArn(jobQueue.defaultName),
      queueArn(jobQueue.deadLetterName),
    ]);
  });
});
