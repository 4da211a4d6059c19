import { describe, expect, it, vi } from 'vitest';
import { settingNamed } from '../../../service/src/config/settings.ts';
import { wakerHandler } from '../../lib/lambda-handlers.ts';
import { lowCostProfile } from '../../lib/profiles.ts';
import { wakerRateMinutes, wakerTimeoutSeconds } from '../../lib/worker-waker.ts';
import { flat } from './support/flatten.ts';
import { type Statement, statementsOfRole } from './support/policies.ts';
import { synth } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core machine than the unit timeout (20 s).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const resources = (context: Record<string, unknown>) =>
  synth(context).template.toJSON().Resources as Resources;
const lowCost = () => resources(lowCostProfile.context);

function waker(all: Resources) {
  const found = Object.entries(all).filter(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === wakerHandler,
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, unknown> }];
}

describe('the worker waker (scale to zero)', () => {
  it('exists only where the worker scales to zero', () => {
    for (const context of [{}, { apiMode: 'apigateway' }]) {
      const functions = Object.values(resources(context)).filter(
        (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === wakerHandler,
      );
      expect(functions, JSON.stringify(context)).toEqual([]);
    }
    waker(lowCost());
  });

  it('is invoked every minute by Scheduler, without retries (the next minute is the retry)', () => {
    const all = lowCost();
    const [functionId] = waker(all);
    const schedules = Object.values(all).filter(
      (r) =>
        r.Type === 'AWS::Scheduler::Schedule' &&
        flat(r.Properties.Target).includes(`"${functionId}"`),
    );
    expect(schedules).toHaveLength(1);
    expect(wakerRateMinutes).toBe(1);
    expect(schedules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } },
    });
  });

  it('reads the job queue and starts the worker service, with its own role and nothing more', () => {
    const all = lowCost();
    const [, fn] = waker(all);
    const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(synth(lowCostProfile.context).template, roleId);
    const bySid = Object.fromEntries(statements.map((s: Statement) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual([
      'ReadJobQueueCounts',
      'StartWorkerTask',
      'WriteOwnLogs',
    ]);
    const queueId = Object.entries(all).find(
      ([, r]) => r.Type === 'AWS::SQS::Queue' && r.Properties.QueueName === 'acm-cert-export-jobs',
    )?.[0];
    const serviceId = Object.entries(all).find(([, r]) => r.Type === 'AWS::ECS::Service')?.[0];
    expect(bySid.ReadJobQueueCounts).toMatchObject({
      Action: 'sqs:GetQueueAttributes',
      Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
    expect(bySid.StartWorkerTask).toMatchObject({
      Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
      Resource: { Ref: serviceId },
    });
    expect(fn.Properties.Environment).toEqual({
      Variables: {
        QUEUE_URL: { Ref: queueId },
        WORKER_CLUSTER: expect.objectContaining({ Ref: expect.any(String) }),
        WORKER_SERVICE: { Ref: serviceId },
        LOG_LEVEL: 'info',
        AWS_MAX_ATTEMPTS: '2',
      },
    });
    // Each one a setting the waker reads, whose entry in docs/settings.md says the stack sets it.
    for (const name of Object.keys(
      (fn.Properties.Environment as { Variables: object }).Variables,
    )) {
      const setting = settingNamed(name);
      expect(setting?.readBy, name).toContain('waker');
      expect(setting?.stack, name).toBeDefined();
    }
  });

  it('is small, on Arm, quiet in its logs and bounded in what a run can bill', () => {
    const [, fn] = waker(lowCost());
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: wakerTimeoutSeconds,
      LoggingConfig: { LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' },
    });
  });
});
