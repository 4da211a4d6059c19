/**
 * The monthly cost a synthesized template commits to before its first job: what AWS bills by
 * the hour or the month whether or not anything is used. Pure functions of a template and a
 * price table (prices.ts); per-use charges are listed as rates, not added.
 */
import { deploymentOutcomes, jobSteps } from '../../../service/src/metrics/definitions.ts';
import { wakerHandler } from '../lambda-handlers.ts';
import { idleMinutesBeforeScaleIn } from '../worker-scaling.ts';
import { hoursPerMonth, type Price, type RegionPrices } from './prices.ts';

type Properties = Record<string, unknown>;

export interface CfnTemplate {
  readonly Resources: Readonly<
    Record<string, { readonly Type: string; readonly Properties?: Properties }>
  >;
}

export interface LineItem {
  readonly what: string;
  readonly quantity: number;
  readonly unit: string;
  readonly monthlyUsd: number;
}

export interface PerUseRate {
  readonly what: string;
  readonly usd: number;
  readonly unit: string;
}

export interface CostReport {
  readonly region: string;
  readonly items: readonly LineItem[];
  readonly totalUsd: number;
  readonly perUse: readonly PerUseRate[];
}

/** KMS keys are priced at their highest monthly charge over this many years (rotations add up). */
export const keyHorizonYears = 5;

/**
 * The service's CloudWatch metrics that do not depend on the AWS operations it calls: one per
 * metric and dimension value (service/src/metrics/definitions.ts).
 */
export const fixedCustomMetrics =
  deploymentOutcomes.length + // Deployments by Outcome
  1 + // JobDuration
  jobSteps.length + // StepDuration by Step
  1 + // QueueLag
  2; // InstalledCertificateDaysToExpiry and its minimum

/** The service's defaults (service/src/config/config.ts), when the task's environment omits them. */
export const serviceDefaults = { workerConcurrency: 10, receiveWaitSeconds: 20 } as const;

const monthly = (price: Price, quantity: number, hours = hoursPerMonth) =>
  price.usd * quantity * hours;

function resourcesOf(template: CfnTemplate, type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

const arrayOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** A task size and platform, from its task definition. */
export interface TaskShape {
  readonly vcpu: number;
  readonly memoryGb: number;
  readonly arm: boolean;
}

export function taskShape(properties: Properties): TaskShape {
  const platform = properties.RuntimePlatform as { CpuArchitecture?: string } | undefined;
  return {
    vcpu: Number(properties.Cpu) / 1024,
    memoryGb: Number(properties.Memory) / 1024,
    arm: platform?.CpuArchitecture === 'ARM64',
  };
}

export function taskHourUsd(shape: TaskShape, p: RegionPrices): number {
  return shape.arm
    ? shape.vcpu * p.fargateArmVcpuHour.usd + shape.memoryGb * p.fargateArmGbHour.usd
    : shape.vcpu * p.fargateX86VcpuHour.usd + shape.memoryGb * p.fargateX86GbHour.usd;
}

/** An ECS service's fewest running tasks: its scalable target's minimum, else its desired count. */
function minimumTasks(template: CfnTemplate, serviceId: string, service: Properties): number {
  const target = resourcesOf(template, 'AWS::ApplicationAutoScaling::ScalableTarget').find(
    ([, t]) => JSON.stringify(t.Properties?.ResourceId ?? '').includes(`"${serviceId}"`),
  );
  return Number(target?.[1].Properties?.MinCapacity ?? service.DesiredCount ?? 1);
}

interface EcsService {
  readonly id: string;
  readonly minTasks: number;
  readonly shape: TaskShape;
  readonly spot: boolean;
  readonly publicIp: boolean;
  readonly environment: Record<string, string>;
}

function ecsServices(template: CfnTemplate): EcsService[] {
  return resourcesOf(template, 'AWS::ECS::Service').map(([id, r]) => {
    const service = r.Properties ?? {};
    const definitionId = (service.TaskDefinition as { Ref?: string } | undefined)?.Ref ?? '';
    const definition = template.Resources[definitionId]?.Properties ?? {};
    const container = arrayOf(definition.ContainerDefinitions)[0] as
      | { Environment?: { Name: string; Value: string }[] }
      | undefined;
    const network = service.NetworkConfiguration as
      | { AwsvpcConfiguration?: { AssignPublicIp?: string } }
      | undefined;
    return {
      id,
      minTasks: minimumTasks(template, id, service),
      shape: taskShape(definition),
      spot: JSON.stringify(service.CapacityProviderStrategy ?? []).includes('FARGATE_SPOT'),
      publicIp: network?.AwsvpcConfiguration?.AssignPublicIp === 'ENABLED',
      environment: Object.fromEntries(
        (container?.Environment ?? []).map((e) => [e.Name, String(e.Value)]),
      ),
    };
  });
}

/** Months a key of `rotationDays` pays for extra key material within the horizon: 0, 1 or 2. */
export function chargedRotations(properties: Properties): number {
  if (properties.EnableKeyRotation !== true) return 0;
  const days = Number(properties.RotationPeriodInDays ?? 365);
  return Math.min(2, Math.floor((keyHorizonYears * 365) / days));
}

/** Alarm metrics an alarm is billed for, and whether at high resolution. */
export function alarmMetrics(properties: Properties): { count: number; highResolution: boolean } {
  const metrics = arrayOf(properties.Metrics) as { MetricStat?: { Period?: number } }[];
  if (metrics.length === 0) {
    return { count: 1, highResolution: Number(properties.Period ?? 60) < 60 };
  }
  const read = metrics.filter((m) => m.MetricStat !== undefined);
  return {
    count: read.length,
    highResolution: read.some((m) => Number(m.MetricStat?.Period ?? 60) < 60),
  };
}

/** Runs a month of a Scheduler `rate(…)` expression; undefined for cron and one-time schedules. */
export function runsPerMonth(expression: string): number | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate === null) return undefined;
  const every = Number(rate[1]);
  const unit = rate[2] ?? '';
  const perHour = unit.startsWith('minute')
    ? 60 / every
    : unit.startsWith('hour')
      ? 1 / every
      : 1 / (24 * every);
  return Math.round(perHour * hoursPerMonth);
}

interface ScheduledFunction {
  readonly description: string;
  readonly invocationsPerMonth: number;
  readonly timeoutSeconds: number;
  readonly memoryGb: number;
  readonly arm: boolean;
  /** AWS requests each run makes that are billed per request (the waker: one GetQueueAttributes). */
  readonly sqsRequestsPerRun: number;
}

/**
 * Lambda functions a `rate(…)` schedule invokes: billed every run whether or not anything is
 * used. Cron schedules (the daily expiry check, about 30 runs a month) are left out: each costs
 * well under a cent.
 */
function scheduledFunctions(template: CfnTemplate): ScheduledFunction[] {
  const found: ScheduledFunction[] = [];
  for (const [, schedule] of resourcesOf(template, 'AWS::Scheduler::Schedule')) {
    const runs = runsPerMonth(String(schedule.Properties?.ScheduleExpression ?? ''));
    const target = schedule.Properties?.Target as { Arn?: { 'Fn::GetAtt'?: [string, string] } };
    const functionId = target?.Arn?.['Fn::GetAtt']?.[0];
    const fn = functionId === undefined ? undefined : template.Resources[functionId];
    if (runs === undefined || fn?.Type !== 'AWS::Lambda::Function') continue;
    const props = fn.Properties ?? {};
    const handler = String(props.Handler ?? '');
    found.push({
      description: handler === wakerHandler ? 'the worker waker, every minute' : handler,
      invocationsPerMonth: runs,
      // Lambda's defaults: 3 s, 128 MB, x86.
      timeoutSeconds: Number(props.Timeout ?? 3),
      memoryGb: Number(props.MemorySize ?? 128) / 1024,
      arm: arrayOf(props.Architectures).includes('arm64'),
      sqsRequestsPerRun: handler === wakerHandler ? 1 : 0,
    });
  }
  return found;
}

interface ScheduledMessage {
  /** The message type and the expression, e.g. `reconcile messages to the queue, rate(1 hour)`. */
  readonly description: string;
  readonly runsPerMonth: number;
}

/** Is this target ARN an SQS queue's (of this template, or imported by its ARN)? */
function isQueueArn(template: CfnTemplate, arn: unknown): boolean {
  const id = (arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  if (id !== undefined) return template.Resources[id]?.Type === 'AWS::SQS::Queue';
  return JSON.stringify(arn ?? '').includes(':sqs:');
}

/**
 * `rate(…)` schedules that put a message on a queue (the hourly reconciliation sweep): billed by
 * Scheduler per run, and each run wakes a worker that scales to zero. Cron schedules (the daily
 * expiry check and verify sweep) are left out: a run a day costs Scheduler nothing worth
 * counting, and a scale-to-zero worker about $0.06 a month of task time for each.
 */
function scheduledMessages(template: CfnTemplate): ScheduledMessage[] {
  const found: ScheduledMessage[] = [];
  for (const [, schedule] of resourcesOf(template, 'AWS::Scheduler::Schedule')) {
    const expression = String(schedule.Properties?.ScheduleExpression ?? '');
    const runs = runsPerMonth(expression);
    const target = schedule.Properties?.Target as { Arn?: unknown; Input?: string } | undefined;
    if (runs === undefined || !isQueueArn(template, target?.Arn)) continue;
    let type = 'scheduled';
    try {
      type = String((JSON.parse(target?.Input ?? '{}') as { type?: unknown }).type ?? type);
    } catch {
      // An Input that is not JSON is still a message on the queue.
    }
    found.push({
      description: `${type} messages to the queue, ${expression}`,
      runsPerMonth: runs,
    });
  }
  return found;
}

export function fixedMonthlyCost(template: CfnTemplate, p: RegionPrices): CostReport {
  const items: LineItem[] = [];
  const add = (what: string, quantity: number, unit: string, monthlyUsd: number) => {
    if (quantity > 0) items.push({ what, quantity, unit, monthlyUsd });
  };

  const nat = resourcesOf(template, 'AWS::EC2::NatGateway').length;
  add('NAT gateways', nat, 'gateway', monthly(p.natGatewayHour, nat));
  const eips = resourcesOf(template, 'AWS::EC2::EIP').length;
  add(
    'public IPv4 of the NAT gateways (Elastic IPs)',
    eips,
    'address',
    monthly(p.publicIpv4Hour, eips),
  );

  const endpointZones = resourcesOf(template, 'AWS::EC2::VPCEndpoint')
    .filter(([, e]) => e.Properties?.VpcEndpointType === 'Interface')
    .reduce((sum, [, e]) => sum + arrayOf(e.Properties?.SubnetIds).length, 0);
  add(
    'interface endpoints',
    endpointZones,
    'endpoint in a zone',
    monthly(p.interfaceEndpointHourPerZone, endpointZones),
  );

  const albs = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').filter(
    ([, lb]) => (lb.Properties?.Type ?? 'application') === 'application',
  );
  add(
    'application load balancer',
    albs.length,
    'load balancer',
    monthly(p.applicationLoadBalancerHour, albs.length),
  );
  const albAddresses = albs
    .filter(([, lb]) => lb.Properties?.Scheme === 'internet-facing')
    .reduce(
      (sum, [, lb]) =>
        sum + arrayOf(lb.Properties?.Subnets ?? lb.Properties?.SubnetMappings).length,
      0,
    );
  add(
    'public IPv4 of the internet-facing load balancer (one per zone)',
    albAddresses,
    'address',
    monthly(p.publicIpv4Hour, albAddresses),
  );

  const perUse: PerUseRate[] = [];
  for (const service of ecsServices(template)) {
    const hour = taskHourUsd(service.shape, p);
    const size = `${service.shape.vcpu} vCPU, ${service.shape.memoryGb} GB, ${service.shape.arm ? 'ARM64' : 'x86'}`;
    const capacity = service.spot
      ? 'Fargate Spot, priced at on-demand (Spot bills less)'
      : 'Fargate';
    add(
      `tasks always running (${size}; ${capacity})`,
      service.minTasks,
      'task',
      hour * service.minTasks * hoursPerMonth,
    );
    if (service.publicIp) {
      add(
        'public IPv4 of the tasks always running',
        service.minTasks,
        'address',
        monthly(p.publicIpv4Hour, service.minTasks),
      );
    }
    const worker = service.environment.WORKER_ENABLED !== 'false';
    if (worker && service.minTasks > 0) {
      const concurrency = Number(
        service.environment.WORKER_CONCURRENCY ?? serviceDefaults.workerConcurrency,
      );
      const wait = Number(
        service.environment.WORKER_RECEIVE_WAIT_SECONDS ?? serviceDefaults.receiveWaitSeconds,
      );
      // Each consumer long-polls the queue: one ReceiveMessage per wait, empty or not.
      const requests = (service.minTasks * concurrency * hoursPerMonth * 3600) / Math.max(1, wait);
      add(
        `SQS long polls of the idle worker (${concurrency} consumers, ${wait} s waits)`,
        Math.round(requests),
        'request',
        (requests / 1e6) * p.sqsMillionRequests.usd,
      );
    }
    if (service.minTasks === 0) {
      perUse.push({
        what: `a worker task while it runs (${size}${service.publicIp ? ', with its public IPv4' : ''})`,
        usd: hour + (service.publicIp ? p.publicIpv4Hour.usd : 0),
        unit: service.spot ? 'per task-hour on-demand (Spot bills less)' : 'per task-hour',
      });
    }
  }

  for (const scheduled of scheduledFunctions(template)) {
    const n = scheduled.invocationsPerMonth;
    add(
      `EventBridge Scheduler invocations (${scheduled.description})`,
      n,
      'invocation',
      (n / 1e6) * p.schedulerMillionInvocations.usd,
    );
    add(
      `Lambda requests (${scheduled.description})`,
      n,
      'request',
      (n / 1e6) * p.lambdaMillionRequests.usd,
    );
    const gbSeconds = n * scheduled.timeoutSeconds * scheduled.memoryGb;
    add(
      `Lambda compute, at most (${scheduled.description}: each run billed at its ${scheduled.timeoutSeconds} s timeout, ${scheduled.memoryGb * 1024} MB)`,
      Math.round(gbSeconds),
      'GB-second',
      gbSeconds * (scheduled.arm ? p.lambdaArmGbSecond.usd : p.lambdaX86GbSecond.usd),
    );
    if (scheduled.sqsRequestsPerRun > 0) {
      const requests = n * scheduled.sqsRequestsPerRun;
      add(
        `SQS requests (${scheduled.description})`,
        requests,
        'request',
        (requests / 1e6) * p.sqsMillionRequests.usd,
      );
    }
  }

  const scaleToZero = ecsServices(template).filter(
    (service) => service.minTasks === 0 && service.environment.WORKER_ENABLED !== 'false',
  );
  for (const scheduled of scheduledMessages(template)) {
    const n = scheduled.runsPerMonth;
    add(
      `EventBridge Scheduler invocations (${scheduled.description})`,
      n,
      'invocation',
      (n / 1e6) * p.schedulerMillionInvocations.usd,
    );
    // Each run wakes the worker, which keeps its task until the queue has been idle this long.
    for (const service of scaleToZero) {
      const hours = (n * idleMinutesBeforeScaleIn) / 60;
      const hour = taskHourUsd(service.shape, p) + (service.publicIp ? p.publicIpv4Hour.usd : 0);
      add(
        `a worker task started by each run, at least (${scheduled.description}: ${idleMinutesBeforeScaleIn} idle minutes before scale-in)`,
        Math.round(hours),
        'task-hour',
        hours * hour,
      );
    }
  }

  for (const [, key] of resourcesOf(template, 'AWS::KMS::Key')) {
    const rotations = chargedRotations(key.Properties ?? {});
    add(
      `KMS key${rotations > 0 ? ` (with its ${rotations} charged rotation${rotations > 1 ? 's' : ''} within ${keyHorizonYears} years)` : ''}`,
      1,
      'key',
      p.kmsKeyMonth.usd * (1 + rotations),
    );
  }

  let standard = 0;
  let highResolution = 0;
  for (const [, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
    const billed = alarmMetrics(alarm.Properties ?? {});
    if (billed.highResolution) highResolution += billed.count;
    else standard += billed.count;
  }
  add('CloudWatch alarm metrics', standard, 'alarm metric', standard * p.alarmMetricMonth.usd);
  add(
    'CloudWatch high-resolution alarm metrics',
    highResolution,
    'alarm metric',
    highResolution * p.highResolutionAlarmMetricMonth.usd,
  );

  const dashboards = resourcesOf(template, 'AWS::CloudWatch::Dashboard').length;
  add(
    'CloudWatch dashboards (the first three of an account are free)',
    dashboards,
    'dashboard',
    dashboards * p.dashboardMonth.usd,
  );

  const secrets = resourcesOf(template, 'AWS::SecretsManager::Secret').length;
  add('Secrets Manager secrets of the stack', secrets, 'secret', secrets * p.secretMonth.usd);

  if (nat > 0)
    perUse.push({ what: 'data through a NAT gateway', usd: p.natGatewayGb.usd, unit: 'per GB' });
  if (endpointZones > 0) {
    perUse.push({
      what: 'data through an interface endpoint',
      usd: p.interfaceEndpointGb.usd,
      unit: 'per GB',
    });
  }
  perUse.push({
    what: `each custom metric the service writes as EMF (${fixedCustomMetrics} whatever happens, when each is written in the month; and two per AWS operation called, AwsCalls and, when one failed, AwsCallErrors: docs/operations.md, Metrics)`,
    usd: p.customMetricMonth.usd,
    unit: 'per metric-month',
  });
  perUse.push({
    what: 'each managed certificate target (its passphrase secret)',
    usd: p.secretMonth.usd,
    unit: 'per mapping-month',
  });

  const totalUsd = items.reduce((sum, item) => sum + item.monthlyUsd, 0);
  return { region: p.region, items, totalUsd, perUse };
}

/** What the figures leave out, printed with them. */
export const notCounted = [
  "requests (SQS, DynamoDB, Secrets Manager, KMS, API Gateway, Lambda): docs/benchmarks.md measures about $0.033 per 1,000 deployments for the queue, the tables with their indexes and the secrets (the servers' reads included), and each profile's break-even against the serverless original",
  "the reconciliation sweeps' own requests: per mapping and run three SQS requests (send, receive, delete) and a few DynamoDB reads; ACM's DescribeCertificate and Systems Manager's DescribeInstanceInformation are free (hourly with 100 mappings: about 220,000 SQS requests, $0.09 a month)",
  'CloudWatch Logs ingestion and storage, data transfer, ECR image storage ($0.10/GB-month, outside the stack)',
  'Container Insights metrics (custom metrics, billed per metric while tasks run; their number is not in the template)',
  'free tiers (10 alarm metrics, 1 million SQS requests, 20,000 KMS requests, 1 million Lambda requests and 400,000 GB-seconds, 14 million Scheduler invocations a month per account)',
];
