/**
 * List prices (USD, on-demand) of what the stack pays for whether or not it is used, for two
 * regions, each with where it was checked and when. Plain data; `fixed-cost.ts` reads it.
 *
 * Checked 2026-11-29 from this machine, which reaches the web only through a search index of
 * stored pages: AWS's pricing pages render their per-region tables in the browser, so a price
 * is taken from the page where its text shows it, otherwise from AWS's Price List API files as
 * quoted by stored extracts and bills (named below). Update the figures and `checked` together.
 */

export interface Price {
  readonly usd: number;
  readonly unit: string;
  /** Where the figure was read. */
  readonly source: string;
  /** When it was read (YYYY-MM-DD). */
  readonly checked: string;
}

export interface RegionPrices {
  readonly region: string;
  readonly location: string;
  readonly natGatewayHour: Price;
  readonly natGatewayGb: Price;
  readonly interfaceEndpointHourPerZone: Price;
  readonly interfaceEndpointGb: Price;
  readonly publicIpv4Hour: Price;
  readonly applicationLoadBalancerHour: Price;
  readonly fargateArmVcpuHour: Price;
  readonly fargateArmGbHour: Price;
  readonly fargateX86VcpuHour: Price;
  readonly fargateX86GbHour: Price;
  /** A customer managed KMS key; each of its first two rotations adds the same again. */
  readonly kmsKeyMonth: Price;
  readonly alarmMetricMonth: Price;
  readonly highResolutionAlarmMetricMonth: Price;
  /** A CloudWatch dashboard (the first three of an account, up to 50 metrics each, are free). */
  readonly dashboardMonth: Price;
  /** A custom metric (one name and dimension set), prorated by the hours it receives data. */
  readonly customMetricMonth: Price;
  readonly sqsMillionRequests: Price;
  readonly secretMonth: Price;
  readonly lambdaMillionRequests: Price;
  readonly lambdaArmGbSecond: Price;
  readonly lambdaX86GbSecond: Price;
  readonly schedulerMillionInvocations: Price;
}

/** AWS prices by the hour assuming 730 hours in a month. */
export const hoursPerMonth = 730;

const day = '2026-11-29';

const pages = {
  vpc: 'aws.amazon.com/vpc/pricing (NAT gateway $0.045/h and $0.045/GB, public IPv4 $0.005/h since 2024-02-01)',
  privateLink:
    'aws.amazon.com/privatelink/pricing (billed per endpoint per zone per hour; data $0.01/GB for the first PB)',
  kms: 'aws.amazon.com/kms/pricing ($1/month per key; each rotation +$1/month, capped after the second rotation since 2024-04, AWS Security Blog)',
  cloudwatch:
    'aws.amazon.com/cloudwatch/pricing ($0.10 per standard-resolution alarm metric, $0.30 high resolution; a metric math alarm is billed per metric it reads)',
  cloudwatchMetrics:
    'aws.amazon.com/cloudwatch/pricing ($3.00 per dashboard-month beyond the three free ones; custom metrics $0.30 per metric-month for the first 10,000, prorated by the hour, EMF metrics included)',
  lambda:
    'aws.amazon.com/lambda/pricing ($0.20 per million requests; $0.0000133334 per GB-second on Arm, $0.0000166667 on x86, first tier; duration includes initialization code)',
  scheduler:
    'aws.amazon.com/eventbridge/pricing (Scheduler: $1.00 per million invocations after 14 million free a month)',
  repoFacts: 'shared/docs/aws-facts.md cost anchors and docs/benchmarks.md (AWS list prices)',
};

export const prices: Readonly<Record<'us-east-1' | 'eu-west-1', RegionPrices>> = {
  'us-east-1': {
    region: 'us-east-1',
    location: 'US East (N. Virginia)',
    natGatewayHour: {
      usd: 0.045,
      unit: 'per NAT gateway-hour',
      source: `${pages.vpc}; N. Virginia table as of 2026-06-01 quoted by zacfukuda.com`,
      checked: day,
    },
    natGatewayGb: { usd: 0.045, unit: 'per GB processed', source: pages.vpc, checked: day },
    interfaceEndpointHourPerZone: {
      usd: 0.01,
      unit: 'per endpoint-zone-hour',
      source: `${pages.privateLink}; us-east-1 June 2026 tables quoted by factualminds.com and zacfukuda.com`,
      checked: day,
    },
    interfaceEndpointGb: {
      usd: 0.01,
      unit: 'per GB processed',
      source: pages.privateLink,
      checked: day,
    },
    publicIpv4Hour: {
      usd: 0.005,
      unit: 'per public IPv4 address-hour',
      source: pages.vpc,
      checked: day,
    },
    applicationLoadBalancerHour: {
      usd: 0.0225,
      unit: 'per ALB-hour (plus LCU-hours, used only with traffic)',
      source:
        'aws.amazon.com/elasticloadbalancing/pricing, us-east-1 $0.0225/h and $0.008/LCU-h as quoted by cloud-horizons.com (2026-05-08)',
      checked: day,
    },
    fargateArmVcpuHour: {
      usd: 0.03238,
      unit: 'per vCPU-hour, Linux/ARM64',
      source: pages.repoFacts,
      checked: day,
    },
    fargateArmGbHour: {
      usd: 0.00356,
      unit: 'per GB-hour, Linux/ARM64',
      source: pages.repoFacts,
      checked: day,
    },
    fargateX86VcpuHour: {
      usd: 0.04048,
      unit: 'per vCPU-hour, Linux/x86',
      source: pages.repoFacts,
      checked: day,
    },
    fargateX86GbHour: {
      usd: 0.004445,
      unit: 'per GB-hour, Linux/x86',
      source: pages.repoFacts,
      checked: day,
    },
    kmsKeyMonth: { usd: 1, unit: 'per key-month', source: pages.kms, checked: day },
    alarmMetricMonth: {
      usd: 0.1,
      unit: 'per standard-resolution alarm metric-month',
      source: pages.cloudwatch,
      checked: day,
    },
    highResolutionAlarmMetricMonth: {
      usd: 0.3,
      unit: 'per high-resolution alarm metric-month',
      source: pages.cloudwatch,
      checked: day,
    },
    dashboardMonth: {
      usd: 3,
      unit: 'per dashboard-month',
      source: pages.cloudwatchMetrics,
      checked: day,
    },
    customMetricMonth: {
      usd: 0.3,
      unit: 'per custom metric-month',
      source: pages.cloudwatchMetrics,
      checked: day,
    },
    sqsMillionRequests: {
      usd: 0.4,
      unit: 'per million standard-queue requests',
      source: pages.repoFacts,
      checked: day,
    },
    secretMonth: {
      usd: 0.4,
      unit: 'per secret-month',
      source: `aws.amazon.com/secrets-manager/pricing; ${pages.repoFacts}`,
      checked: day,
    },
    lambdaMillionRequests: {
      usd: 0.2,
      unit: 'per million requests',
      source: pages.lambda,
      checked: '2026-11-30',
    },
    lambdaArmGbSecond: {
      usd: 0.0000133334,
      unit: 'per GB-second (Arm)',
      source: pages.lambda,
      checked: '2026-11-30',
    },
    lambdaX86GbSecond: {
      usd: 0.0000166667,
      unit: 'per GB-second (x86)',
      source: pages.lambda,
      checked: '2026-11-30',
    },
    schedulerMillionInvocations: {
      usd: 1,
      unit: 'per million invocations',
      source: pages.scheduler,
      checked: '2026-11-30',
    },
  },
  'eu-west-1': {
    region: 'eu-west-1',
    location: 'Europe (Ireland)',
    natGatewayHour: {
      usd: 0.048,
      unit: 'per NAT gateway-hour',
      source:
        'AWS Price List API, AmazonEC2 eu-west-1 offer file published 2026-09-25, usage type EU-NatGateway-Hours (as quoted by a stored extract of that file)',
      checked: day,
    },
    natGatewayGb: {
      usd: 0.048,
      unit: 'per GB processed',
      source: 'AWS Price List API, AmazonEC2 eu-west-1 2026-09-25, EU-NatGateway-Bytes',
      checked: day,
    },
    interfaceEndpointHourPerZone: {
      usd: 0.011,
      unit: 'per endpoint-zone-hour',
      source: `${pages.privateLink}; eu-west-1 rate as quoted by two independent pricing tables (vpc_endpoint_hour eu-west-1 0.011) and consistent with a May 2026 eu-west-1 bill (EU-VpcEndpoint-Hours)`,
      checked: day,
    },
    interfaceEndpointGb: {
      usd: 0.01,
      unit: 'per GB processed',
      source: pages.privateLink,
      checked: day,
    },
    publicIpv4Hour: {
      usd: 0.005,
      unit: 'per public IPv4 address-hour',
      source: `${pages.vpc}; eu-west-1 July 2026 Cost Explorer line EU-PublicIPv4:InUseAddress ($8.91 for 1,783 address-hours)`,
      checked: day,
    },
    applicationLoadBalancerHour: {
      usd: 0.0252,
      unit: 'per ALB-hour (plus LCU-hours, used only with traffic)',
      source:
        'eu-west-1 July 2026 Cost Explorer line EU-LoadBalancerUsage ($15.00 for 595 hours) and a pricing table quoting eu-west-1 alb 0.0252',
      checked: day,
    },
    fargateArmVcpuHour: {
      usd: 0.03238,
      unit: 'per vCPU-hour, Linux/ARM64',
      source: 'AWS Price List API SKU KXC9CEUQGJQPNZPY, EU-Fargate-ARM-vCPU-Hours:perCPU',
      checked: day,
    },
    fargateArmGbHour: {
      usd: 0.00356,
      unit: 'per GB-hour, Linux/ARM64',
      source: 'AWS Price List API SKU MGJ5EB5GSHR8QZDF, EU-Fargate-ARM-GB-Hours',
      checked: day,
    },
    fargateX86VcpuHour: {
      usd: 0.04048,
      unit: 'per vCPU-hour, Linux/x86',
      source: 'AWS Price List API SKU K4EXFQ5YFQCP98EN, EU-Fargate-vCPU-Hours:perCPU',
      checked: day,
    },
    fargateX86GbHour: {
      usd: 0.004445,
      unit: 'per GB-hour, Linux/x86',
      source: 'AWS Price List API SKU UP5ETC3QSW2QZGEY, EU-Fargate-GB-Hours',
      checked: day,
    },
    kmsKeyMonth: { usd: 1, unit: 'per key-month', source: pages.kms, checked: day },
    alarmMetricMonth: {
      usd: 0.1,
      unit: 'per standard-resolution alarm metric-month',
      source: `${pages.cloudwatch}; the Ireland rate assumed equal to us-east-1 (not readable here)`,
      checked: day,
    },
    highResolutionAlarmMetricMonth: {
      usd: 0.3,
      unit: 'per high-resolution alarm metric-month',
      source: `${pages.cloudwatch}; the Ireland rate assumed equal to us-east-1 (not readable here)`,
      checked: day,
    },
    dashboardMonth: {
      usd: 3,
      unit: 'per dashboard-month',
      source: `${pages.cloudwatchMetrics}; the Ireland rate assumed equal to us-east-1`,
      checked: day,
    },
    customMetricMonth: {
      usd: 0.3,
      unit: 'per custom metric-month',
      source: `${pages.cloudwatchMetrics}; the Ireland rate assumed equal to us-east-1`,
      checked: day,
    },
    sqsMillionRequests: {
      usd: 0.4,
      unit: 'per million standard-queue requests',
      source: 'aws.amazon.com/sqs/pricing; the Ireland rate assumed equal to us-east-1',
      checked: day,
    },
    secretMonth: {
      usd: 0.4,
      unit: 'per secret-month',
      source: 'aws.amazon.com/secrets-manager/pricing; the Ireland rate assumed equal to us-east-1',
      checked: day,
    },
    lambdaMillionRequests: {
      usd: 0.2,
      unit: 'per million requests',
      source: `${pages.lambda}; the Ireland rates equal us-east-1's on the page`,
      checked: '2026-11-30',
    },
    lambdaArmGbSecond: {
      usd: 0.0000133334,
      unit: 'per GB-second (Arm)',
      source: `${pages.lambda}; the Ireland rates equal us-east-1's on the page`,
      checked: '2026-11-30',
    },
    lambdaX86GbSecond: {
      usd: 0.0000166667,
      unit: 'per GB-second (x86)',
      source: `${pages.lambda}; the Ireland rates equal us-east-1's on the page`,
      checked: '2026-11-30',
    },
    schedulerMillionInvocations: {
      usd: 1,
      unit: 'per million invocations',
      source: `${pages.scheduler}; the Ireland rate assumed equal to us-east-1`,
      checked: '2026-11-30',
    },
  },
};
