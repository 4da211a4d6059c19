import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { reconcileBody } from '../../../local/scheduled-runs.ts';
import { parseMessage } from '../../../service/src/messages/parse-message.ts';
import {
  expiryCheckSchedule,
  jobQueue,
  reconcileSchedule,
  verifySchedule,
} from '../../lib/resource-definitions.ts';
import { actionsOf, logicalIdOf, resourcesOf, statementsOfRole } from './support/policies.ts';
import { synth, testAccount } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

interface Schedule {
  ScheduleExpression: string;
  ScheduleExpressionTimezone: string;
  Target: {
    Arn: unknown;
    RoleArn: { 'Fn::GetAtt': [string, string] };
    Input: string;
    DeadLetterConfig: { Arn: unknown };
    RetryPolicy: { MaximumEventAgeInSeconds: number };
  };
}

/** The schedules that send a reconcile message, verify sweep last. */
function sweeps(template: Template): Schedule[] {
  return Object.values(template.findResources('AWS::Scheduler::Schedule'))
    .map((r) => r.Properties as Schedule)
    .filter((s) => JSON.parse(s.Target.Input ?? '{}').type === 'reconcile')
    .sort(
      (a, b) =>
        Number(JSON.parse(a.Target.Input).verify === true) -
        Number(JSON.parse(b.Target.Input).verify === true),
    );
}

describe('the reconciliation schedules (defaults)', () => {
  let template: Template;
  let reconcile: Schedule;
  let verify: Schedule;
  beforeAll(() => {
    template = synth().template;
    const found = sweeps(template);
    expect(found).toHaveLength(2);
    [reconcile, verify] = found as [Schedule, Schedule];
  });
  const queueArn = (name: string) => ({
    'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: name }), 'Arn'],
  });

  it('sweep every mapping hourly, and daily at 03:00 UTC with verify: three hours before the expiry check', () => {
    expect(reconcile.ScheduleExpression).toBe('rate(1 hour)');
    expect(verify.ScheduleExpression).toBe('cron(0 3 * * ? *)');
    expect(verify.ScheduleExpression).not.toBe(expiryCheckSchedule.expression);
    expect([reconcile, verify].map((s) => s.ScheduleExpressionTimezone)).toEqual(['UTC', 'UTC']);
  });

  it('send to the job queue; a run they could not deliver lands in the DLQ (the DLQ alarm sees it)', () => {
    for (const s of [reconcile, verify]) {
      expect(s.Target.Arn).toEqual(queueArn(jobQueue.defaultName));
      expect(s.Target.DeadLetterConfig.Arn).toEqual(queueArn(jobQueue.deadLetterName));
    }
    // An hourly sweep late by an hour is replaced by the next one; a daily one is still worth it.
    expect(reconcile.Target.RetryPolicy.MaximumEventAgeInSeconds).toBe(3600);
    expect(verify.Target.RetryPolicy.MaximumEventAgeInSeconds).toBe(12 * 3600);
  });

  it('send the reconcile message the worker routes, with the scheduled time, the one the bed sends by hand', () => {
    expect(JSON.parse(reconcile.Target.Input)).toEqual(reconcileSchedule.message);
    expect(JSON.parse(verify.Target.Input)).toEqual(verifySchedule.message);
    const at = new Date('2026-11-27T03:00:00Z');
    for (const [s, options] of [
      [reconcile, {}],
      [verify, { verify: true }],
    ] as const) {
      const sent = s.Target.Input.replace('<aws.scheduler.scheduled-time>', '2026-11-27T03:00:00Z');
      expect(sent).toBe(reconcileBody(at, options));
      expect(parseMessage(sent)).toEqual({ kind: 'reconcile', message: JSON.parse(sent) });
    }
    expect(JSON.parse(verify.Target.Input).verify).toBe(true);
    expect(JSON.parse(reconcile.Target.Input).verify).toBeUndefined();
  });

  it('run as the expiry check’s role, which Scheduler alone assumes and which may send to the two queues only', () => {
    const roles = new Set(
      Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
        (r) => (r.Properties as Schedule).Target.RoleArn['Fn::GetAtt'][0],
      ),
    );
    expect(roles.size).toBe(1);
    const [roleId] = roles as Set<string>;
    const role = template.toJSON().Resources[roleId as string].Properties;
    const trust = role.AssumeRolePolicyDocument.Statement as {
      Principal: unknown;
      Condition: { StringEquals: Record<string, unknown> };
    }[];
    expect(trust.map((t) => t.Principal)).toEqual([{ Service: 'scheduler.amazonaws.com' }]);
    expect(trust[0]?.Condition.StringEquals['aws:SourceAccount']).toBe(testAccount);
    const statements = statementsOfRole(template, roleId as string);
    expect(statements.flatMap(actionsOf)).toEqual(['sqs:SendMessage', 'sqs:SendMessage']);
    expect(statements.flatMap(resourcesOf)).toEqual([
      queueArn(jobQueue.defaultName),
      queueArn(jobQueue.deadLetterName),
    ]);
  });
});

describe('the reconciliation schedules (stack settings)', () => {
  it('take other expressions from reconcileSchedule and verifySchedule', () => {
    const template = synth({
      reconcileSchedule: 'rate(15 minutes)',
      verifySchedule: 'cron(30 1 ? * MON-FRI *)',
    }).template;
    expect(sweeps(template).map((s) => s.ScheduleExpression)).toEqual([
      'rate(15 minutes)',
      'cron(30 1 ? * MON-FRI *)',
    ]);
  });

  it('are left out when off; the expiry check stays', () => {
    const template = synth({ reconcileSchedule: 'off', verifySchedule: 'off' }).template;
    expect(sweeps(template)).toEqual([]);
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    const onlyVerify = synth({ reconcileSchedule: 'off' }).template;
    expect(sweeps(onlyVerify).map((s) => JSON.parse(s.Target.Input).verify)).toEqual([true]);
  });
});
