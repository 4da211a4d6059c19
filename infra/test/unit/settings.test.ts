import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRepoRoot } from '../../lib/app.ts';
import { type ContextKey, contextKeys } from '../../lib/context-keys.ts';
import { readSettings, SettingsError } from '../../lib/settings.ts';

const certificate = 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123';

function settings(context: Partial<Record<ContextKey, unknown>>) {
  return readSettings((key) => context[key]);
}

describe('stack settings from CDK context', () => {
  it('defaults to the names of resource-definitions.ts, a new VPC, an internal ALB and env', () => {
    const s = settings({ albCertificateArn: certificate });
    expect(s.apiMode).toBe('alb');
    expect(s.names).toEqual({
      mappingTable: 'CertTagMapping',
      deploymentsTable: 'CertDeployments',
      serversTable: 'CertDeploymentServers',
      jobQueue: 'acm-cert-export-jobs',
      deadLetterQueue: 'acm-cert-export-jobs-dlq',
      documentName: 'Install-ACMCertificate',
      secretPrefix: 'acm-passphrase/',
    });
    expect(s.vpc).toEqual({
      kind: 'new',
      profile: 'nat',
      cidr: '10.80.0.0/16',
      availabilityZones: [],
      natGateways: 1,
    });
    expect(s.alb).toEqual({ certificateArn: certificate, internetFacing: false, ingressCidrs: [] });
    expect(s.targetTagKey).toBe('env');
    expect(s.allowedCertificateArns).toEqual([]);
    expect(s.allowedReloadCommands).toEqual([]);
    expect(s.principalsJson).toBe('[]');
    expect(s.image).toEqual({ kind: 'asset' });
    expect(s.task).toEqual({
      cpu: 512,
      memoryMiB: 1024,
      minCount: 1,
      maxCount: 4,
      port: 8080,
      metricsPort: 9464,
      metricsIngressCidrs: [],
      spot: false,
    });
  });

  it('reads lists as JSON arrays, JSON text or comma lists (cdk.json and -c both work)', () => {
    const other = `${certificate.slice(0, -3)}def`;
    expect(
      settings({ albCertificateArn: certificate, allowedCertificateArns: [certificate, other] })
        .allowedCertificateArns,
    ).toEqual([certificate, other]);
    expect(
      settings({
        albCertificateArn: certificate,
        allowedCertificateArns: JSON.stringify([certificate]),
      }).allowedCertificateArns,
    ).toEqual([certificate]);
    expect(
      settings({
        albCertificateArn: certificate,
        allowedCertificateArns: `${certificate}, ${other}`,
      }).allowedCertificateArns,
    ).toEqual([certificate, other]);
  });

  it('reads reload commands as a JSON list, one space between words', () => {
    expect(
      settings({
        albCertificateArn: certificate,
        allowedReloadCommands: JSON.stringify([
          '/usr/sbin/nginx  -s reload',
          '/usr/bin/systemctl reload haproxy',
        ]),
      }).allowedReloadCommands,
    ).toEqual(['/usr/sbin/nginx -s reload', '/usr/bin/systemctl reload haproxy']);
  });

  it('accepts principals as JSON text or a JSON value and passes them on as JSON', () => {
    const rules = [
      { principal: 'arn:aws:iam::123456789012:role/ci', actions: ['deploy'], targets: ['env=dev'] },
    ];
    expect(
      JSON.parse(
        settings({ albCertificateArn: certificate, principals: JSON.stringify(rules) })
          .principalsJson,
      ),
    ).toEqual(rules);
    expect(
      JSON.parse(settings({ albCertificateArn: certificate, principals: rules }).principalsJson),
    ).toEqual(rules);
  });

  it('imports a VPC by attributes, so synth never looks it up', () => {
    const s = settings({
      albCertificateArn: certificate,
      vpcId: 'vpc-0123abcd',
      vpcCidr: '10.1.0.0/16',
      availabilityZones: 'eu-west-1a,eu-west-1b',
      privateSubnetIds: ['subnet-a', 'subnet-b'],
    });
    expect(s.vpc).toEqual({
      kind: 'attributes',
      profile: 'nat',
      vpcId: 'vpc-0123abcd',
      vpcCidr: '10.1.0.0/16',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-a', 'subnet-b'],
      publicSubnetIds: [],
    });
  });

  it('reads the network profile, NAT gateways per zone, zero tasks in apigateway mode, Spot', () => {
    const s = settings({
      apiMode: 'apigateway',
      natGateways: 'per-zone',
      availabilityZones: 'eu-west-1b,eu-west-1c',
      minTasks: 0,
      fargateSpot: 'true',
    });
    expect(s.vpc).toMatchObject({
      kind: 'new',
      profile: 'nat',
      natGateways: 'per-zone',
      availabilityZones: ['eu-west-1b', 'eu-west-1c'],
    });
    expect(s.task).toMatchObject({ minCount: 0, maxCount: 4, spot: true });
    expect(settings({ apiMode: 'apigateway', networkProfile: 'public' }).vpc.profile).toBe(
      'public',
    );
  });

  it('imports a VPC for public tasks by its public subnets', () => {
    const s = settings({
      albCertificateArn: certificate,
      networkProfile: 'public',
      vpcId: 'vpc-0123abcd',
      vpcCidr: '10.1.0.0/16',
      availabilityZones: 'eu-west-1a,eu-west-1b',
      publicSubnetIds: ['subnet-c', 'subnet-d'],
    });
    expect(s.vpc).toMatchObject({
      kind: 'attributes',
      profile: 'public',
      privateSubnetIds: [],
      publicSubnetIds: ['subnet-c', 'subnet-d'],
    });
  });

  it('requires the listener certificate in alb mode (the listener is HTTPS)', () => {
    expect(() => settings({})).toThrow(/albCertificateArn is required in alb mode/);
  });

  it('needs no listener certificate in apigateway mode', () => {
    expect(settings({ apiMode: 'apigateway' }).alb.certificateArn).toBeUndefined();
  });

  it.each<[string, Partial<Record<ContextKey, unknown>>, RegExp]>([
    ['an unknown API mode', { apiMode: 'nlb' }, /apiMode must be alb or apigateway/],
    [
      'a malformed certificate ARN',
      { albCertificateArn: 'arn:aws:acm:cert' },
      /albCertificateArn must be an ACM certificate ARN/,
    ],
    [
      'principals that are not a list',
      { principals: '{"principal":"x"}' },
      /principals must be a JSON array/,
    ],
    [
      'a principal that is not an IAM ARN',
      { principals: '[{"principal":"bob"}]' },
      /principals\[0\]\.principal/,
    ],
    ['invalid JSON', { principals: '[oops' }, /principals is not valid JSON/],
    [
      'a retention CloudWatch does not offer',
      { logRetentionDays: 10 },
      /logRetentionDays must be one of/,
    ],
    [
      'an imported VPC without subnets',
      { vpcId: 'vpc-1', vpcCidr: '10.0.0.0/16', availabilityZones: 'us-east-1a,us-east-1b' },
      /privateSubnetIds/,
    ],
    [
      'an imported VPC for public tasks without public subnets',
      {
        vpcId: 'vpc-1',
        vpcCidr: '10.0.0.0/16',
        availabilityZones: 'us-east-1a,us-east-1b',
        networkProfile: 'public',
        privateSubnetIds: 'subnet-a,subnet-b',
      },
      /publicSubnetIds needs one subnet per zone/,
    ],
    ['an unknown network profile', { networkProfile: 'vpn' }, /networkProfile must be one of/],
    [
      'NAT gateways for a network without NAT',
      { networkProfile: 'endpoints', natGateways: 2 },
      /natGateways applies to a new VPC with networkProfile=nat only/,
    ],
    ['a zone name that is a letter', { availabilityZones: 'a,b' }, /availabilityZones must be/],
    ['a new VPC in one zone', { availabilityZones: 'us-east-1a' }, /at least two zones/],
    [
      'zero tasks with the API in the tasks',
      { minTasks: 0 },
      /minTasks 0 needs apiMode=apigateway/,
    ],
    ['a tag key with spaces', { targetTagKey: 'my env' }, /targetTagKey/],
    ['a tag key a Run Command target cannot name (+)', { targetTagKey: 'a+b' }, /targetTagKey/],
    ['a tag key AWS reserves', { targetTagKey: 'aws:env' }, /targetTagKey must not start/],
    [
      'a certificate region that is no region',
      { certificateRegions: 'eu-west-1,ireland' },
      /certificateRegions/,
    ],
    [
      'a relative reload command',
      { allowedReloadCommands: '["systemctl reload nginx"]' },
      /allowedReloadCommands must be absolute paths/,
    ],
    [
      'a reload command with shell syntax',
      { allowedReloadCommands: '["/usr/sbin/nginx -s reload; id"]' },
      /allowedReloadCommands/,
    ],
    ['maxTasks below minTasks', { minTasks: 3, maxTasks: 2 }, /maxTasks must be an integer from 3/],
    [
      'a key rotation KMS refuses',
      { keyRotationDays: 30 },
      /keyRotationDays must be an integer from 90 to 2560/,
    ],
  ])('refuses %s, naming the context key', (_what, context, message) => {
    const run = () => settings({ albCertificateArn: certificate, ...context });
    expect(run).toThrow(SettingsError);
    expect(run).toThrow(message);
  });
});

describe('alarm and API entry settings', () => {
  it('default to a 14-day expiry alarm, API Gateway’s account role set by the stack and no WAF', () => {
    const s = settings({ albCertificateArn: certificate });
    expect(s.alarms.expiryDays).toBe(14);
    expect(s.apiGatewayCloudWatchRole).toBe(true);
    expect(s.webAcl).toEqual({ kind: 'none' });
  });

  it('read them, refusing an expiry threshold outside 1–90 days', () => {
    const s = settings({
      albCertificateArn: certificate,
      expiryAlarmDays: '30',
      apiGatewayCloudWatchRole: 'false',
      webAcl: 'create',
    });
    expect([s.alarms.expiryDays, s.apiGatewayCloudWatchRole, s.webAcl.kind]).toEqual([
      30,
      false,
      'create',
    ]);
    expect(() => settings({ albCertificateArn: certificate, expiryAlarmDays: '0' })).toThrow(
      /expiryAlarmDays must be an integer from 1 to 90/,
    );
  });
});

describe('reconciliation schedules', () => {
  it('default to an hourly sweep and a daily verify sweep at 03:00 UTC', () => {
    expect(settings({ albCertificateArn: certificate }).schedules).toEqual({
      reconcile: 'rate(1 hour)',
      verify: 'cron(0 3 * * ? *)',
    });
  });

  it('take any recurring Scheduler expression, or off', () => {
    expect(
      settings({
        albCertificateArn: certificate,
        reconcileSchedule: 'rate(30 minutes)',
        verifySchedule: 'cron(0/30 8-18 ? * MON-FRI *)',
      }).schedules,
    ).toEqual({ reconcile: 'rate(30 minutes)', verify: 'cron(0/30 8-18 ? * MON-FRI *)' });
    expect(
      settings({ albCertificateArn: certificate, reconcileSchedule: 'off', verifySchedule: 'off' })
        .schedules,
    ).toEqual({});
    expect(
      settings({ albCertificateArn: certificate, verifySchedule: 'cron(0 4 L * ? *)' }).schedules
        .verify,
    ).toBe('cron(0 4 L * ? *)');
  });

  it.each([
    [
      'reconcileSchedule',
      'hourly',
      /reconcileSchedule must be off or a rate\(…\) or cron\(…\) expression, got hourly/,
    ],
    ['reconcileSchedule', 'rate(0 hours)', /rate\(<positive integer> minute/],
    ['reconcileSchedule', 'rate(1 week)', /rate\(<positive integer> minute/],
    ['reconcileSchedule', 'at(2026-12-01T00:00:00)', /a rate\(…\) or cron\(…\) expression/],
    [
      'verifySchedule',
      'cron(0 3 * * ?)',
      /verifySchedule must be off or cron\(minutes hours .*\): six fields/,
    ],
    ['verifySchedule', 'cron(0 3 * * * *)', /\? in exactly one of day-of-month and day-of-week/],
    ['verifySchedule', 'cron(0 3 ? * ? *)', /\? in exactly one of day-of-month and day-of-week/],
    ['verifySchedule', 'cron(0 3; * * ? *)', /whose hours field is valid/],
  ] as const)('refuse %s=%s, naming the key', (key, value, message) => {
    const run = () => settings({ albCertificateArn: certificate, [key]: value });
    expect(run).toThrow(SettingsError);
    expect(run).toThrow(message);
  });
});

describe('docs/deploy.md', () => {
  it('documents every context key the app reads', () => {
    const doc = readFileSync(join(defaultRepoRoot, 'docs/deploy.md'), 'utf8');
    for (const key of Object.keys(contextKeys)) expect(doc, key).toContain(`\`${key}\``);
  });
});
