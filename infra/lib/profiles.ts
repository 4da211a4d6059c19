/**
 * The deployment profiles docs/deploy.md compares, as the context keys that make each one (on
 * top of a deployment's own keys). `npm run cost` prices each; the tests synthesize them. Plain
 * data: no CDK here.
 */
export interface Profile {
  readonly name: string;
  readonly context: Readonly<Record<string, string>>;
  /** What it keeps working through, and what it gives up. */
  readonly summary: string;
}

export const natProfile: Profile = {
  name: 'nat',
  context: {},
  summary:
    'The default. Private subnets behind one NAT gateway; ALB and a task always running. A zone outage that takes the NAT gateway down cuts the tasks of both zones off AWS.',
};

export const natPerZoneProfile: Profile = {
  name: 'nat-per-zone',
  context: { natGateways: 'per-zone' },
  summary:
    'As nat, with a NAT gateway in each zone: a zone outage leaves the tasks of the other zone their own way out.',
};

export const endpointsProfile: Profile = {
  name: 'endpoints',
  context: { networkProfile: 'endpoints' },
  summary:
    'No route out of the VPC at all: the task reaches each AWS API through an interface endpoint in each zone (an image in ECR only).',
};

export const publicProfile: Profile = {
  name: 'public',
  context: { networkProfile: 'public' },
  summary:
    'Tasks in public subnets with public IPs, HTTPS out only, nothing allowed in but the ALB: no NAT gateway to pay for or lose.',
};

export const lowCostProfile: Profile = {
  name: 'low-cost',
  context: {
    apiMode: 'apigateway',
    networkProfile: 'public',
    minTasks: '0',
    keyRotationDays: '2560',
    // An hourly sweep would start a task every hour (at least $1.51 a month of task time):
    // the daily verify sweep reconciles too, once a day.
    reconcileSchedule: 'off',
    // A dashboard is $3 a month beyond an account's three free ones: the whole target.
    dashboard: 'false',
  },
  summary:
    'The API on API Gateway and Lambda, the worker on Fargate in public subnets, at zero tasks while the queue is empty: a job waits for a task to start (minutes) after an idle spell. The logs-and-alarms key rotates every 7 years instead of every year. No hourly reconciliation sweep (each would start a task): the daily verify sweep reconciles once a day. No CloudWatch dashboard (its metrics and alarms stay).',
};

/** The low-cost profile's promise: at most this much a month (USD) before any use. */
export const lowCostTargetUsd = 3;

export const profiles: readonly Profile[] = [
  natProfile,
  natPerZoneProfile,
  endpointsProfile,
  publicProfile,
  lowCostProfile,
];
