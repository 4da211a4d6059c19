import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../service/src/config/config.ts';
import {
  alarmMetrics,
  type CfnTemplate,
  chargedRotations,
  fixedMonthlyCost,
  runsPerMonth,
  serviceDefaults,
} from '../../lib/cost/fixed-cost.ts';
import { hoursPerMonth, type Price, prices } from '../../lib/cost/prices.ts';

const us = prices['us-east-1'];
const eu = prices['eu-west-1'];

function template(resources: Record<string, { Type: string; Properties?: object }>): CfnTemplate {
  return { Resources: resources as CfnTemplate['Resources'] };
}

const item = (t: CfnTemplate, what: RegExp, p = us) =>
  fixedMonthlyCost(t, p).items.find((i) => what.test(i.what));

/** An ECS service of `cpu`/`memory` whose scalable target starts at `min`. */
function aService(options: {
  min: number;
  arm?: boolean;
  spot?: boolean;
  publicIp?: boolean;
  environment?: Record<string, string>;
}) {
  return {
    Task: {
      Type: 'AWS::ECS::TaskDefinition',
      Properties: {
        Cpu: '512',
        Memory: '1024',
        RuntimePlatform: { CpuArchitecture: options.arm === false ? 'X86_64' : 'ARM64' },
        ContainerDefinitions: [
          {
            Environment: Object.entries(options.environment ?? {}).map(([Name, Value]) => ({
              Name,
              Value,
            })),
          },
        ],
      },
    },
    Service: {
      Type: 'AWS::ECS::Service',
      Properties: {
        TaskDefinition: { Ref: 'Task' },
        DesiredCount: options.min,
        NetworkConfiguration: {
          AwsvpcConfiguration: { AssignPublicIp: options.publicIp ? 'ENABLED' : 'DISABLED' },
        },
        ...(options.spot
          ? { CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }] }
          : { LaunchType: 'FARGATE' }),
      },
    },
    Target: {
      Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
      Properties: {
        MinCapacity: options.min,
        ResourceId: {
          'Fn::Join': [
            '',
            ['service/', { Ref: 'Cluster' }, '/', { 'Fn::GetAtt': ['Service', 'Name'] }],
          ],
        },
      },
    },
  };
}

describe('the price table', () => {
  it.each(Object.entries(prices))('dates and sources every price of %s', (region, table) => {
    expect(table.region).toBe(region);
    const entries = Object.entries(table).filter(([, v]) => typeof v === 'object') as [
      string,
      Price,
    ][];
    expect(entries.length).toBeGreaterThanOrEqual(15);
    for (const [name, price] of entries) {
      expect(price.usd, name).toBeGreaterThan(0);
      expect(price.checked, name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(price.source.length, name).toBeGreaterThan(20);
    }
  });

  it('has the same prices in both regions (a table cannot miss one)', () => {
    expect(Object.keys(eu).sort()).toEqual(Object.keys(us).sort());
  });
});

describe('the fixed monthly cost of a template', () => {
  it('is zero for what only bills by use (tables, queues, functions, gateway endpoints)', () => {
    const report = fixedMonthlyCost(
      template({
        Table: { Type: 'AWS::DynamoDB::Table' },
        Queue: { Type: 'AWS::SQS::Queue' },
        Function: { Type: 'AWS::Lambda::Function' },
        S3: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
      }),
      us,
    );
    expect(report.items).toEqual([]);
    expect(report.totalUsd).toBe(0);
  });

  it('counts each NAT gateway and its Elastic IP by the hour', () => {
    const t = template({
      Nat1: { Type: 'AWS::EC2::NatGateway' },
      Nat2: { Type: 'AWS::EC2::NatGateway' },
      Eip1: { Type: 'AWS::EC2::EIP' },
      Eip2: { Type: 'AWS::EC2::EIP' },
    });
    expect(item(t, /^NAT gateways/)?.monthlyUsd).toBeCloseTo(2 * 0.045 * 730, 6);
    expect(item(t, /^NAT gateways/, eu)?.monthlyUsd).toBeCloseTo(2 * 0.048 * 730, 6);
    expect(item(t, /Elastic IPs/)?.monthlyUsd).toBeCloseTo(2 * 0.005 * 730, 6);
  });

  it('bills an interface endpoint once per zone it has a subnet in', () => {
    const t = template({
      Ssm: {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: { VpcEndpointType: 'Interface', SubnetIds: [{ Ref: 'A' }, { Ref: 'B' }] },
      },
      Sqs: {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: { VpcEndpointType: 'Interface', SubnetIds: [{ Ref: 'A' }, { Ref: 'B' }] },
      },
    });
    expect(item(t, /interface endpoints/)).toMatchObject({ quantity: 4 });
    expect(item(t, /interface endpoints/)?.monthlyUsd).toBeCloseTo(4 * 0.01 * 730, 6);
    expect(item(t, /interface endpoints/, eu)?.monthlyUsd).toBeCloseTo(4 * 0.011 * 730, 6);
  });

  it('bills an application load balancer by the hour, and the public IPs of an internet-facing one', () => {
    const internal = template({
      Lb: {
        Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
        Properties: { Type: 'application', Scheme: 'internal', Subnets: ['a', 'b'] },
      },
    });
    expect(item(internal, /load balancer$/)?.monthlyUsd).toBeCloseTo(0.0225 * 730, 6);
    expect(item(internal, /internet-facing/)).toBeUndefined();
    const open = template({
      Lb: {
        Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
        Properties: { Type: 'application', Scheme: 'internet-facing', Subnets: ['a', 'b'] },
      },
    });
    expect(item(open, /internet-facing/)?.monthlyUsd).toBeCloseTo(2 * 0.005 * 730, 6);
  });

  it('bills the tasks that always run: ARM64 and x86 at their prices, with public IPs when they have them', () => {
    const arm = template(aService({ min: 2, publicIp: true }));
    const armHour = 0.5 * 0.03238 + 1 * 0.00356;
    expect(item(arm, /tasks always running/)?.monthlyUsd).toBeCloseTo(2 * armHour * 730, 6);
    expect(item(arm, /public IPv4 of the tasks/)?.monthlyUsd).toBeCloseTo(2 * 0.005 * 730, 6);
    const x86 = template(aService({ min: 1, arm: false }));
    expect(item(x86, /tasks always running/)?.monthlyUsd).toBeCloseTo(
      (0.5 * 0.04048 + 1 * 0.004445) * 730,
      6,
    );
    expect(item(x86, /public IPv4 of the tasks/)).toBeUndefined();
    expect(item(template(aService({ min: 1, spot: true })), /tasks always running/)?.what).toMatch(
      /Fargate Spot, priced at on-demand/,
    );
  });

  it('bills the long polls of an idle worker, from its environment or the service defaults', () => {
    const polls = (environment: Record<string, string>) =>
      item(template(aService({ min: 1, environment })), /SQS long polls/);
    expect(polls({})).toMatchObject({ quantity: (10 * 730 * 3600) / 20 });
    expect(polls({})?.monthlyUsd).toBeCloseTo((1_314_000 / 1e6) * 0.4, 6);
    expect(polls({ WORKER_CONCURRENCY: '20', WORKER_RECEIVE_WAIT_SECONDS: '10' })).toMatchObject({
      quantity: (20 * 730 * 3600) / 10,
    });
    expect(polls({ WORKER_ENABLED: 'false' })).toBeUndefined();
  });

  it('charges nothing for a service at zero tasks, and gives the price of a task-hour instead', () => {
    const report = fixedMonthlyCost(template(aService({ min: 0, publicIp: true })), us);
    expect(report.items).toEqual([]);
    expect(report.perUse).toContainEqual({
      what: expect.stringContaining('a worker task while it runs'),
      usd: 0.5 * 0.03238 + 1 * 0.00356 + 0.005,
      unit: 'per task-hour',
    });
  });

  it('bills a rate schedule to a queue per run and, for a worker at zero tasks, the task each run starts', () => {
    const schedule = (expression: string) => ({
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        ScheduleExpression: expression,
        Target: { Arn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, Input: '{"type":"reconcile"}' },
      },
    });
    const schedules = {
      Queue: { Type: 'AWS::SQS::Queue' },
      Hourly: schedule('rate(1 hour)'),
      // A run a day is left out.
      Daily: schedule('cron(0 3 * * ? *)'),
    };
    const report = fixedMonthlyCost(template(schedules), us);
    expect(report.items).toEqual([
      {
        what: 'EventBridge Scheduler invocations (reconcile messages to the queue, rate(1 hour))',
        quantity: 730,
        unit: 'invocation',
        monthlyUsd: 730 / 1e6,
      },
    ]);
    const woken = item(
      template({ ...schedules, ...aService({ min: 0, publicIp: true }) }),
      /^a worker task started by each run/,
    );
    expect(woken?.what).toMatch(/5 idle minutes before scale-in/);
    expect(woken?.monthlyUsd).toBeCloseTo(
      ((730 * 5) / 60) * (0.5 * 0.03238 + 1 * 0.00356 + 0.005),
      6,
    );
    expect(
      item(template({ ...schedules, ...aService({ min: 1 }) }), /^a worker task started/),
    ).toBeUndefined();
  });

  it('bills a KMS key with the rotations charged within the horizon (two at most)', () => {
    const key = (properties: object) =>
      template({ Key: { Type: 'AWS::KMS::Key', Properties: properties } });
    expect(item(key({}), /KMS key/)?.monthlyUsd).toBe(1);
    expect(item(key({ EnableKeyRotation: true }), /KMS key/)?.monthlyUsd).toBe(3);
    expect(
      item(key({ EnableKeyRotation: true, RotationPeriodInDays: 1000 }), /KMS key/)?.monthlyUsd,
    ).toBe(2);
    expect(
      item(key({ EnableKeyRotation: true, RotationPeriodInDays: 2560 }), /KMS key/)?.monthlyUsd,
    ).toBe(1);
    expect(chargedRotations({ EnableKeyRotation: true, RotationPeriodInDays: 90 })).toBe(2);
  });

  it('bills an alarm per metric it reads, at high resolution under 60 s', () => {
    expect(alarmMetrics({ MetricName: 'A', Period: 60 })).toEqual({
      count: 1,
      highResolution: false,
    });
    expect(alarmMetrics({ MetricName: 'A', Period: 10 })).toEqual({
      count: 1,
      highResolution: true,
    });
    const math = {
      Metrics: [
        { Id: 'e', Expression: 'a + b + c' },
        { Id: 'a', MetricStat: { Period: 60 } },
        { Id: 'b', MetricStat: { Period: 60 } },
        { Id: 'c', MetricStat: { Period: 60 } },
      ],
    };
    expect(alarmMetrics(math)).toEqual({ count: 3, highResolution: false });
    const t = template({
      One: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 60 } },
      Math: { Type: 'AWS::CloudWatch::Alarm', Properties: math },
      Fast: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 10 } },
    });
    expect(item(t, /^CloudWatch alarm metrics/)).toMatchObject({ quantity: 4 });
    expect(item(t, /^CloudWatch alarm metrics/)?.monthlyUsd).toBeCloseTo(0.4, 6);
    expect(item(t, /high-resolution/)?.monthlyUsd).toBeCloseTo(0.3, 6);
  });

  it('adds the items up', () => {
    const t = template({
      Nat: { Type: 'AWS::EC2::NatGateway' },
      Key: { Type: 'AWS::KMS::Key', Properties: {} },
      ...aService({ min: 0 }),
    });
    const report = fixedMonthlyCost(t, us);
    expect(report.totalUsd).toBeCloseTo(0.045 * hoursPerMonth + 1, 6);
  });
});

describe('the service defaults the cost assumes', () => {
  it('are the service configuration’s own', () => {
    const config = loadConfig({
      AWS_REGION: 'us-east-1',
      QUEUE_URL: 'http://127.0.0.1/1/q',
      DLQ_URL: 'http://127.0.0.1/1/d',
    });
    expect(config.worker.concurrency).toBe(serviceDefaults.workerConcurrency);
    expect(config.worker.receiveWaitSeconds).toBe(serviceDefaults.receiveWaitSeconds);
  });
});

describe('scheduled runs', () => {
  it.each([
    ['rate(1 minute)', 43_800],
    ['rate(5 minutes)', 8_760],
    ['rate(2 hours)', 365],
    ['rate(1 day)', 30],
    ['cron(15 6 * * ? *)', undefined],
    ['at(2026-12-01T00:00:00)', undefined],
  ])('%s runs %s times a month', (expression, runs) => {
    expect(runsPerMonth(expression)).toBe(runs);
  });
});
