import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { missingZoneLookup, stackZones } from '../../lib/availability-zones.ts';
import { type CfnTemplate, fixedMonthlyCost } from '../../lib/cost/fixed-cost.ts';
import { prices } from '../../lib/cost/prices.ts';
import { lowCostProfile, lowCostTargetUsd } from '../../lib/profiles.ts';
import { SettingsError } from '../../lib/settings.ts';
import { idleMinutesBeforeScaleIn } from '../../lib/worker-scaling.ts';
import { flat } from './support/flatten.ts';
import { onlyResource, type Statement, statementsOfRole } from './support/policies.ts';
import { synth, testAccount, testRegion } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const ecrImage = `${testAccount}.dkr.ecr.${testRegion}.amazonaws.com/acm-cert-export:1.0.0`;
const zoneLookupKey = `availability-zones:account=${testAccount}:region=${testRegion}`;

/** Three configurations beyond the default (nat, one NAT gateway), few on purpose: synth is slow. */
const endpoints = () => synth({ networkProfile: 'endpoints', imageUri: ecrImage });
// Spot rides along: one synth covers the option too.
const lowCost = () => synth({ ...lowCostProfile.context, fargateSpot: 'true' });
const natPerZoneFromLookup = () =>
  synth({
    natGateways: 'per-zone',
    availabilityZones: '',
    [zoneLookupKey]: ['us-east-1c', 'us-east-1d', 'us-east-1f'],
  });

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resources = (template: Template) => template.toJSON().Resources as Resources;

function ofType(template: Template, type: string) {
  return Object.entries(resources(template)).filter(([, r]) => r.Type === type);
}

/** The subnets (logical ids) the ECS service runs in, and its public IP setting. */
function serviceNetwork(template: Template) {
  const service = onlyResource(template, 'AWS::ECS::Service');
  const config = (
    service.Properties.NetworkConfiguration as {
      AwsvpcConfiguration: { AssignPublicIp: string; Subnets: { Ref: string }[] };
    }
  ).AwsvpcConfiguration;
  return { assignPublicIp: config.AssignPublicIp, subnets: config.Subnets.map((s) => s.Ref) };
}

/** Whether the subnet's route table sends 0.0.0.0/0 somewhere, and where. */
function defaultRouteOf(template: Template, subnetId: string): string | undefined {
  const all = resources(template);
  const association = Object.values(all).find(
    (r) =>
      r.Type === 'AWS::EC2::SubnetRouteTableAssociation' &&
      (r.Properties.SubnetId as { Ref: string }).Ref === subnetId,
  );
  const table = (association?.Properties.RouteTableId as { Ref: string } | undefined)?.Ref;
  const route = Object.values(all).find(
    (r) =>
      r.Type === 'AWS::EC2::Route' &&
      (r.Properties.RouteTableId as { Ref: string }).Ref === table &&
      r.Properties.DestinationCidrBlock === '0.0.0.0/0',
  );
  if (route === undefined) return undefined;
  return route.Properties.NatGatewayId !== undefined ? 'nat' : 'internet';
}

function taskSecurityGroupRules(template: Template) {
  const groups = ofType(template, 'AWS::EC2::SecurityGroup').filter(
    ([, g]) => g.Properties.GroupDescription === 'acm-cert-export tasks: HTTPS to AWS APIs only',
  );
  expect(groups).toHaveLength(1);
  return groups[0]?.[1].Properties.SecurityGroupEgress;
}

function gatewayEndpoints(template: Template) {
  return ofType(template, 'AWS::EC2::VPCEndpoint')
    .filter(([, e]) => e.Properties.VpcEndpointType === 'Gateway')
    .map(([, e]) => flat(e.Properties.ServiceName).split('.').at(-1))
    .sort();
}

describe('network profile nat (the default)', () => {
  it('runs the tasks in private subnets behind one NAT gateway, no public IP', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    const { assignPublicIp, subnets } = serviceNetwork(template);
    expect(assignPublicIp).toBe('DISABLED');
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) expect(defaultRouteOf(template, subnet)).toBe('nat');
  });

  it('adds the free S3 and DynamoDB gateway endpoints, and no interface endpoint', () => {
    const { template } = synth();
    expect(gatewayEndpoints(template)).toEqual(['dynamodb', 's3']);
    expect(
      ofType(template, 'AWS::EC2::VPCEndpoint').filter(
        ([, e]) => e.Properties.VpcEndpointType === 'Interface',
      ),
    ).toEqual([]);
  });

  it('lets the tasks out on HTTPS only', () => {
    expect(taskSecurityGroupRules(synth().template)).toEqual([
      expect.objectContaining({
        CidrIp: '0.0.0.0/0',
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
      }),
    ]);
  });

  it('puts one NAT gateway in each zone with natGateways=per-zone', () => {
    const { template } = natPerZoneFromLookup();
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    const nats = ofType(template, 'AWS::EC2::NatGateway').map(
      ([, n]) => (n.Properties.SubnetId as { Ref: string }).Ref,
    );
    const zonesOfNats = nats.map(
      (subnet) => resources(template)[subnet]?.Properties.AvailabilityZone,
    );
    expect(zonesOfNats.sort()).toEqual(['us-east-1c', 'us-east-1d']);
  });
});

describe('network profile endpoints', () => {
  it('has no NAT gateway and no route out of the task subnets', () => {
    const { template } = endpoints();
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const { assignPublicIp, subnets } = serviceNetwork(template);
    expect(assignPublicIp).toBe('DISABLED');
    for (const subnet of subnets) expect(defaultRouteOf(template, subnet)).toBeUndefined();
  });

  it('reaches every service the task calls through an interface endpoint with private DNS, in the task subnets', () => {
    const { template } = endpoints();
    const { subnets } = serviceNetwork(template);
    const interfaces = ofType(template, 'AWS::EC2::VPCEndpoint').filter(
      ([, e]) => e.Properties.VpcEndpointType === 'Interface',
    );
    const names = interfaces.map(([, e]) =>
      flat(e.Properties.ServiceName).replace(`com.amazonaws.${testRegion}.`, ''),
    );
    expect(names.sort()).toEqual(
      [
        'acm',
        'ec2',
        'ecr.api',
        'ecr.dkr',
        'ecs',
        'logs',
        'secretsmanager',
        'sns',
        'sqs',
        'ssm',
        'sts',
      ].sort(),
    );
    expect(names).not.toContain('kms');
    for (const [, endpoint] of interfaces) {
      expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
      expect((endpoint.Properties.SubnetIds as { Ref: string }[]).map((s) => s.Ref).sort()).toEqual(
        [...subnets].sort(),
      );
    }
    expect(gatewayEndpoints(template)).toEqual(['dynamodb', 's3']);
  });

  it('lets HTTPS in to the endpoints from the VPC only', () => {
    const { template } = endpoints();
    const endpointGroups = ofType(template, 'AWS::EC2::SecurityGroup').filter(([id]) =>
      id.startsWith('Endpoint'),
    );
    expect(endpointGroups).toHaveLength(11);
    for (const [, group] of endpointGroups) {
      expect(group.Properties.SecurityGroupIngress).toEqual([
        expect.objectContaining({ CidrIp: '10.80.0.0/16', FromPort: 443, ToPort: 443 }),
      ]);
    }
  });

  it('refuses an image from a registry no endpoint reaches', () => {
    expect(() => synth({ networkProfile: 'endpoints' })).toThrow(
      /networkProfile=endpoints needs the image in ECR/,
    );
  });
});

describe('an imported VPC', () => {
  it('runs public tasks in its public subnets with public IPs, and creates nothing in it', () => {
    const { template } = synth({
      networkProfile: 'public',
      vpcId: 'vpc-0123abcd',
      vpcCidr: '10.1.0.0/16',
      availabilityZones: 'us-east-1a,us-east-1b',
      publicSubnetIds: 'subnet-0a1b2c3d4e5f60003,subnet-0a1b2c3d4e5f60004',
    });
    const service = onlyResource(template, 'AWS::ECS::Service');
    expect(service.Properties.NetworkConfiguration).toEqual({
      AwsvpcConfiguration: expect.objectContaining({
        AssignPublicIp: 'ENABLED',
        Subnets: ['subnet-0a1b2c3d4e5f60003', 'subnet-0a1b2c3d4e5f60004'],
      }),
    });
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::VPCEndpoint']) {
      template.resourceCountIs(type, 0);
    }
  });
});

describe('the low-cost profile: API Gateway, public network, a worker that scales to zero', () => {
  it('runs the tasks in public subnets with public IPs, no NAT, HTTPS out only', () => {
    const { template } = lowCost();
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    const { assignPublicIp, subnets } = serviceNetwork(template);
    expect(assignPublicIp).toBe('ENABLED');
    for (const subnet of subnets) expect(defaultRouteOf(template, subnet)).toBe('internet');
    expect(taskSecurityGroupRules(template)).toEqual([
      expect.objectContaining({
        CidrIp: '0.0.0.0/0',
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
      }),
    ]);
    expect(gatewayEndpoints(template)).toEqual(['dynamodb', 's3']);
  });

  it('starts with zero tasks and may scale to zero', () => {
    const { template } = lowCost();
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 0 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
  });

  it('adds tasks on a backlog only: the first one comes from the waker, not from an alarm', () => {
    const { template } = lowCost();
    const policies = ofType(template, 'AWS::ApplicationAutoScaling::ScalingPolicy');
    const out = policies.filter(([id]) => id.includes('QueueBacklogUpper'));
    expect(out).toHaveLength(1);
    expect(policies.filter(([id]) => id.includes('QueueBacklogLower'))).toEqual([]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Period: 60,
      Statistic: 'Maximum',
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 20,
      AlarmActions: [{ Ref: out[0]?.[0] }],
    });
    // The waker, the expiry check and the daily verify sweep: no hourly sweep, which would start
    // a task every hour.
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    expect(
      Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
        (r) => r.Properties.ScheduleExpression,
      ),
    ).not.toContain('rate(1 hour)');
  });

  it('lets a task go only after nothing waited, was in flight or delayed for five minutes', () => {
    const { template } = lowCost();
    const empty = ofType(template, 'AWS::ApplicationAutoScaling::ScalingPolicy').filter(([id]) =>
      id.includes('QueueEmptyLower'),
    );
    expect(empty).toHaveLength(1);
    expect(empty[0]?.[1].Properties.StepScalingPolicyConfiguration).toMatchObject({
      AdjustmentType: 'ChangeInCapacity',
      StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: -1 }],
    });
    const alarm = ofType(template, 'AWS::CloudWatch::Alarm').find(([, a]) =>
      JSON.stringify(a.Properties.AlarmActions).includes(empty[0]?.[0] ?? '?'),
    )?.[1];
    expect(alarm?.Properties).toMatchObject({
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Threshold: 0,
      EvaluationPeriods: idleMinutesBeforeScaleIn,
    });
    const metrics = alarm?.Properties.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string }; Period: number };
    }[];
    expect(metrics.find((m) => m.Expression !== undefined)?.Expression).toBe(
      'FILL(visible, 0) + FILL(inFlight, 0) + FILL(delayed, 0)',
    );
    expect(
      metrics
        .filter((m) => m.MetricStat !== undefined)
        .map((m) => [m.Id, m.MetricStat?.Metric.MetricName, m.MetricStat?.Period]),
    ).toEqual([
      ['visible', 'ApproximateNumberOfMessagesVisible', 60],
      ['inFlight', 'ApproximateNumberOfMessagesNotVisible', 60],
      ['delayed', 'ApproximateNumberOfMessagesDelayed', 60],
    ]);
  });

  it.each(Object.keys(prices) as (keyof typeof prices)[])(
    'costs at most the target a month before any use, in %s (the cost script on this template)',
    (region) => {
      const report = fixedMonthlyCost(lowCost().template.toJSON() as CfnTemplate, prices[region]);
      expect(report.totalUsd).toBeLessThanOrEqual(lowCostTargetUsd);
      expect(report.items.map((i) => i.what).sort()).toEqual([
        'CloudWatch alarm metrics',
        'EventBridge Scheduler invocations (the worker waker, every minute)',
        'KMS key',
        'Lambda compute, at most (the worker waker, every minute: each run billed at its 3 s timeout, 256 MB)',
        'Lambda requests (the worker waker, every minute)',
        'SQS requests (the worker waker, every minute)',
      ]);
    },
  );

  it('rotates the logs-and-alarms key every 2560 days, not every year (each of the first two rotations adds a key-month)', () => {
    expect(onlyResource(lowCost().template, 'AWS::KMS::Key').Properties).toMatchObject({
      EnableKeyRotation: true,
      RotationPeriodInDays: 2560,
    });
    expect(onlyResource(synth().template, 'AWS::KMS::Key').Properties).toMatchObject({
      EnableKeyRotation: true,
      RotationPeriodInDays: 365,
    });
  });

  it('runs on Fargate Spot when asked', () => {
    const { template } = lowCost();
    const service = onlyResource(template, 'AWS::ECS::Service');
    expect(service.Properties.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
    ]);
    expect(service.Properties.LaunchType).toBeUndefined();
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE_SPOT']),
    });
    // On-demand by default.
    expect(onlyResource(synth().template, 'AWS::ECS::Service').Properties.LaunchType).toBe(
      'FARGATE',
    );
  });
});

describe('task scale-in protection', () => {
  it.each([
    ['the default', synth],
    ['the low-cost profile', lowCost],
  ])('lets the task role protect the tasks of its own cluster (%s)', (_name, build) => {
    const { template } = build();
    const definition = onlyResource(template, 'AWS::ECS::TaskDefinition');
    const role = (definition.Properties.TaskRoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(template, role ?? '?');
    const protection = statements.filter((s: Statement) =>
      JSON.stringify(s.Action).includes('ecs:'),
    );
    expect(protection).toHaveLength(1);
    expect(protection[0]?.Action).toBe('ecs:UpdateTaskProtection');
    const cluster = ofType(template, 'AWS::ECS::Cluster')[0]?.[0];
    expect(flat(protection[0]?.Resource)).toBe(
      `arn:<AWS::Partition>:ecs:${testRegion}:${testAccount}:task/<${cluster}>/*`,
    );
  });
});

describe('availability zones', () => {
  it('come from the cached zone lookup of the account when not given: its first two', () => {
    const { stack, template } = natPerZoneFromLookup();
    expect(stack.availabilityZones).toEqual(['us-east-1c', 'us-east-1d']);
    const zones = ofType(template, 'AWS::EC2::Subnet').map(
      ([, s]) => s.Properties.AvailabilityZone,
    );
    expect([...new Set(zones)].sort()).toEqual(['us-east-1c', 'us-east-1d']);
  });

  it('are the setting when given, and never letters appended to the region', () => {
    const { template } = synth({ availabilityZones: 'us-east-1d,us-east-1f' });
    const zones = ofType(template, 'AWS::EC2::Subnet').map(
      ([, s]) => s.Properties.AvailabilityZone,
    );
    expect([...new Set(zones)].sort()).toEqual(['us-east-1d', 'us-east-1f']);
  });

  it('must be zones of the region', () => {
    const app = new App();
    const stack = new Stack(app, 'Zones', { env: { account: testAccount, region: 'eu-west-1' } });
    expect(() => stackZones(stack, ['us-east-1a', 'eu-west-1b'])).toThrow(SettingsError);
    expect(() => stackZones(stack, ['us-east-1a', 'eu-west-1b'])).toThrow(/zones of eu-west-1/);
  });

  it('without setting nor cached lookup, are reported missing for the CDK CLI to look up', () => {
    const app = new App();
    const stack = new Stack(app, 'Zones', { env: { account: testAccount, region: 'eu-west-1' } });
    stackZones(stack, []);
    const missing = app.synth().manifest.missing ?? [];
    expect(missing.map((m) => [m.provider, m.key])).toEqual([
      ['availability-zones', `availability-zones:account=${testAccount}:region=eu-west-1`],
    ]);
    expect(missingZoneLookup(missing)).toMatch(/-c availabilityZones=/);
    expect(missingZoneLookup([])).toBeUndefined();
  });
});
