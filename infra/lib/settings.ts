/**
 * The stack's parameters, read once from CDK context (`cdk.json` or `-c key=value`) and
 * validated here so that a wrong value fails `cdk synth` with the key's name, never a deploy.
 * No CDK imports: this is plain data, tested on its own.
 */
import type { ContextKey, ContextReader } from './context-keys.ts';
import {
  deploymentsTable,
  documentName,
  jobQueue,
  mappingTable,
  passphraseSecretPrefix,
  reconcileSchedule,
  serversTable,
  verifySchedule,
} from './resource-definitions.ts';
import { scheduleExpressionProblem } from './schedule-expression.ts';

export type ApiMode = 'alb' | 'apigateway';

/**
 * How the tasks reach AWS's APIs (see network.ts): `nat` private subnets behind NAT gateways,
 * `endpoints` private subnets with interface endpoints and no route out, `public` public subnets
 * with public IPs and HTTPS egress only.
 */
export type NetworkProfile = 'nat' | 'endpoints' | 'public';

export const networkProfiles: readonly NetworkProfile[] = ['nat', 'endpoints', 'public'];

export type VpcSettings =
  | {
      readonly kind: 'new';
      readonly profile: NetworkProfile;
      readonly cidr: string;
      /** Empty: the first two zones of the account's cached zone lookup (cdk.context.json). */
      readonly availabilityZones: readonly string[];
      /** `nat` only: NAT gateways, a number or one per zone. */
      readonly natGateways: number | 'per-zone';
    }
  | {
      readonly kind: 'attributes';
      readonly profile: NetworkProfile;
      readonly vpcId: string;
      readonly vpcCidr: string;
      readonly availabilityZones: readonly string[];
      readonly privateSubnetIds: readonly string[];
      readonly publicSubnetIds: readonly string[];
    };

export type ImageSettings =
  | { readonly kind: 'asset' }
  | { readonly kind: 'uri'; readonly uri: string };

export interface StackSettings {
  readonly stackName: string;
  readonly account?: string;
  readonly region?: string;
  readonly apiMode: ApiMode;
  readonly names: {
    readonly mappingTable: string;
    readonly deploymentsTable: string;
    readonly serversTable: string;
    readonly jobQueue: string;
    readonly deadLetterQueue: string;
    readonly documentName: string;
    readonly secretPrefix: string;
  };
  readonly vpc: VpcSettings;
  readonly alb: {
    /** ACM certificate of the HTTPS listener; required in `alb` mode. */
    readonly certificateArn?: string;
    readonly internetFacing: boolean;
    /** Who may reach the listener; the VPC CIDR when not given. */
    readonly ingressCidrs: readonly string[];
  };
  /** The tag key that selects target servers (Run Command targets, secret tags, ABAC). */
  readonly targetTagKey: string;
  /** Reload commands deployments may ask for (the service refuses any other). */
  readonly allowedReloadCommands: readonly string[];
  /** Certificates the service may export; empty means every certificate of the account/region. */
  readonly allowedCertificateArns: readonly string[];
  /** Regions whose certificates the service exports; empty means the stack's region only. */
  readonly certificateRegions: readonly string[];
  /** AUTH_PRINCIPALS as JSON text, passed to the service unchanged. */
  readonly principalsJson: string;
  readonly authAudience: string;
  readonly image: ImageSettings;
  /** Customer key for the passphrase secrets; AWS-managed `aws/secretsmanager` when absent. */
  readonly secretsKmsKeyArn?: string;
  readonly alarmEmail?: string;
  /** Creates example server roles tagged `<targetTagKey>=<this>` (EC2 and on-premises). */
  readonly exampleServerRoleTagValue?: string;
  readonly logRetentionDays: number;
  /** Days between automatic rotations of the operations key (each of the first two adds $1/month). */
  readonly keyRotationDays: number;
  readonly task: {
    readonly cpu: number;
    readonly memoryMiB: number;
    /** 0 (apigateway mode only): the worker scales to zero tasks while the queue is empty. */
    readonly minCount: number;
    readonly maxCount: number;
    readonly port: number;
    /**
     * The Prometheus listener's port (METRICS_PORT): never in the load balancer's target group;
     * the tasks' security group opens it to `metricsIngressCidrs` only (none by default).
     */
    readonly metricsPort: number;
    /** Who may scrape /metrics on the tasks' own addresses; empty: nobody (the port stays shut). */
    readonly metricsIngressCidrs: readonly string[];
    /** Run the tasks on Fargate Spot (interruptions are survived like any stop). */
    readonly spot: boolean;
  };
  /** The operations dashboard (dashboard.ts): $3 a month beyond an account's three free ones. */
  readonly dashboard: boolean;
  readonly alarms: {
    /** Age of the oldest waiting job message that pages someone. */
    readonly oldestMessageSeconds: number;
    /** The expiry alarm fires when an installed copy expires in fewer days than this. */
    readonly expiryDays: number;
  };
  /**
   * EventBridge Scheduler expressions of the reconciliation sweep and of the verify sweep (the
   * sweep with `verify`); absent: that schedule is off.
   */
  readonly schedules: { readonly reconcile?: string; readonly verify?: string };
  /** API Gateway's account-level CloudWatch Logs role: create it (an account singleton) or not. */
  readonly apiGatewayCloudWatchRole: boolean;
  /** A WAF web ACL for the API's entry: none, one the stack creates, or an existing one's ARN. */
  readonly webAcl: WebAclSettings;
  /** Resources of these names that already exist (retained, or the sample's) and are imported. */
  readonly existingResources: readonly ExistingResource[];
  /** Keep the deployments table's former all-attributes index (the first upgrade deployment). */
  readonly legacyDeploymentsIndex: boolean;
  /** The optional tag-governance policy (tag-governance.ts). */
  readonly tagGovernance?: {
    /** Roles that may still change the target tag and the passphrase secrets' tags. */
    readonly adminRoleArns: readonly string[];
  };
}

/**
 * Stateful resources that may already exist under their configured names: retained by a deleted
 * stack of this app (tables and queues), or the original sample's mappings table.
 */
export const existingResourceKinds = [
  'mappingTable',
  'deploymentsTable',
  'serversTable',
  'queues',
] as const;
export type ExistingResource = (typeof existingResourceKinds)[number];

export type WebAclSettings =
  | { readonly kind: 'none' }
  | { readonly kind: 'create' }
  | { readonly kind: 'existing'; readonly arn: string };

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

function text(read: ContextReader, key: ContextKey): string | undefined {
  const value = read(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new SettingsError(`context ${key} must be a string, got ${JSON.stringify(value)}`);
  }
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/** A list given as a JSON array (cdk.json) or as JSON/comma-separated text (`-c key=a,b`). */
function list(read: ContextReader, key: ContextKey): string[] {
  const value = read(key);
  if (value === undefined || value === null || value === '') return [];
  let items: unknown = value;
  if (typeof value === 'string') {
    items = value.trim().startsWith('[') ? parseJson(key, value) : value.split(',');
  }
  if (!Array.isArray(items) || !items.every((i) => typeof i === 'string')) {
    throw new SettingsError(`context ${key} must be a list of strings`);
  }
  return items.map((i) => i.trim()).filter((i) => i !== '');
}

function parseJson(key: ContextKey, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new SettingsError(`context ${key} is not valid JSON`);
  }
}

function integer(read: ContextReader, key: ContextKey, fallback: number, min: number, max: number) {
  const raw = text(read, key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(`context ${key} must be an integer from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

function flag(read: ContextReader, key: ContextKey, fallback = false): boolean {
  const raw = text(read, key)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'false') return false;
  if (raw === 'true') return true;
  throw new SettingsError(`context ${key} must be true or false, got ${raw}`);
}

function matching(key: ContextKey, value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new SettingsError(`context ${key} must be ${what}, got ${value}`);
  return value;
}

const certificateArn = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9*-]+$/;

function principalsJson(read: ContextReader): string {
  const raw = read('principals');
  if (raw === undefined || raw === null || raw === '') return '[]';
  const parsed = typeof raw === 'string' ? parseJson('principals', raw) : raw;
  if (!Array.isArray(parsed)) throw new SettingsError('context principals must be a JSON array');
  for (const [i, rule] of parsed.entries()) {
    const principal = (rule as { principal?: unknown } | null)?.principal;
    if (typeof principal !== 'string' || !/^arn:aws[a-z-]*:(iam|sts)::/.test(principal)) {
      throw new SettingsError(`context principals[${i}].principal must be an IAM ARN`);
    }
  }
  return JSON.stringify(parsed);
}

/**
 * The target tag key: one a Run Command tag target can name (`tag:<key>` has no `+`), that an IAM
 * condition key can carry (no spaces), and not reserved by AWS (`aws:`).
 */
function targetTagKey(read: ContextReader): string {
  const key = matching(
    'targetTagKey',
    text(read, 'targetTagKey') ?? 'env',
    /^[A-Za-z0-9][A-Za-z0-9_.:/=@-]{0,127}$/,
    'a tag key of letters, digits and _ . : / = @ - (no spaces, no +)',
  );
  if (key.toLowerCase().startsWith('aws:')) {
    throw new SettingsError(`context targetTagKey must not start with aws: (reserved), got ${key}`);
  }
  return key;
}

function cidr(read: ContextReader): string | undefined {
  const value = text(read, 'vpcCidr');
  return value === undefined
    ? undefined
    : matching('vpcCidr', value, /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 CIDR');
}

function networkProfile(read: ContextReader): NetworkProfile {
  const value = text(read, 'networkProfile') ?? 'nat';
  if (!(networkProfiles as readonly string[]).includes(value)) {
    throw new SettingsError(
      `context networkProfile must be one of ${networkProfiles.join(', ')}, got ${value}`,
    );
  }
  return value as NetworkProfile;
}

/** Zone names, checked for their shape; the stack checks them against its region. */
function zones(read: ContextReader): string[] {
  return list(read, 'availabilityZones').map((zone) =>
    matching('availabilityZones', zone, /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'zone names'),
  );
}

function natGateways(read: ContextReader, profile: NetworkProfile, imported: boolean) {
  const raw = text(read, 'natGateways');
  if (raw === undefined) return 1;
  if (profile !== 'nat' || imported) {
    throw new SettingsError(
      'context natGateways applies to a new VPC with networkProfile=nat only',
    );
  }
  return raw === 'per-zone' ? 'per-zone' : integer(read, 'natGateways', 1, 1, 6);
}

function vpcSettings(read: ContextReader, internetFacing: boolean): VpcSettings {
  const vpcId = text(read, 'vpcId');
  const profile = networkProfile(read);
  const availabilityZones = zones(read);
  if (vpcId === undefined) {
    if (availabilityZones.length === 1) {
      throw new SettingsError('context availabilityZones needs at least two zones');
    }
    return {
      kind: 'new',
      profile,
      cidr: cidr(read) ?? '10.80.0.0/16',
      availabilityZones,
      natGateways: natGateways(read, profile, false),
    };
  }
  natGateways(read, profile, true);
  const vpcCidr = cidr(read);
  const privateSubnetIds = list(read, 'privateSubnetIds');
  const publicSubnetIds = list(read, 'publicSubnetIds');
  if (vpcCidr === undefined || availabilityZones.length < 2) {
    throw new SettingsError('an imported VPC needs vpcCidr and at least two availabilityZones');
  }
  // The tasks run in the private subnets (nat, endpoints) or the public ones (public).
  if (
    (profile !== 'public' || privateSubnetIds.length > 0) &&
    privateSubnetIds.length !== availabilityZones.length
  ) {
    throw new SettingsError('privateSubnetIds needs one subnet per availability zone');
  }
  if (
    (internetFacing || profile === 'public') &&
    publicSubnetIds.length !== availabilityZones.length
  ) {
    throw new SettingsError(
      'publicSubnetIds needs one subnet per zone for an internet-facing ALB and for networkProfile=public',
    );
  }
  return {
    kind: 'attributes',
    profile,
    vpcId: matching('vpcId', vpcId, /^vpc-[0-9a-f]+$/, 'a VPC id'),
    vpcCidr,
    availabilityZones,
    privateSubnetIds,
    publicSubnetIds,
  };
}

/** The values CloudWatch Logs accepts as a retention period. */
export const logRetentionChoices = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

function retentionDays(read: ContextReader): number {
  const days = integer(read, 'logRetentionDays', 90, 1, 3653);
  if (!(logRetentionChoices as readonly number[]).includes(days)) {
    throw new SettingsError(
      `context logRetentionDays must be one of ${logRetentionChoices.join(', ')}`,
    );
  }
  return days;
}

function webAcl(read: ContextReader): WebAclSettings {
  const raw = text(read, 'webAcl');
  if (raw === undefined || raw === 'none') return { kind: 'none' };
  if (raw === 'create') return { kind: 'create' };
  return {
    kind: 'existing',
    arn: matching(
      'webAcl',
      raw,
      /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[\w-]+\/[\w-]+$/,
      'none, create, or the ARN of a regional WAFv2 web ACL',
    ),
  };
}

/** A schedule's expression from its context key: the default, another expression, or `off`. */
function schedule(read: ContextReader, key: ContextKey, fallback: string): string | undefined {
  const value = text(read, key) ?? fallback;
  if (value === 'off') return undefined;
  const problem = scheduleExpressionProblem(value);
  if (problem !== undefined) {
    throw new SettingsError(`context ${key} must be off or ${problem}, got ${value}`);
  }
  return value;
}

function schedules(read: ContextReader): StackSettings['schedules'] {
  const reconcile = schedule(read, 'reconcileSchedule', reconcileSchedule.defaultExpression);
  const verify = schedule(read, 'verifySchedule', verifySchedule.defaultExpression);
  return {
    ...(reconcile === undefined ? {} : { reconcile }),
    ...(verify === undefined ? {} : { verify }),
  };
}

function existingResources(read: ContextReader): ExistingResource[] {
  return list(read, 'existingResources').map((item) => {
    if (!(existingResourceKinds as readonly string[]).includes(item)) {
      throw new SettingsError(
        `context existingResources must list some of ${existingResourceKinds.join(', ')}, got ${item}`,
      );
    }
    return item as ExistingResource;
  });
}

function tagGovernance(read: ContextReader): StackSettings['tagGovernance'] {
  if (!flag(read, 'tagGovernance')) return undefined;
  const adminRoleArns = list(read, 'tagAdminRoleArns').map((arn) =>
    matching(
      'tagAdminRoleArns',
      arn,
      /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/*-]+$/,
      'IAM role ARNs',
    ),
  );
  if (adminRoleArns.length === 0) {
    throw new SettingsError(
      'context tagGovernance needs tagAdminRoleArns: the roles that may still change the target tag',
    );
  }
  return { adminRoleArns };
}

/**
 * The ALB's certificate must be in the stack's region: an ALB listener takes an ACM certificate
 * of its own region only, and CloudFormation would fail only at deploy.
 */
export function checkAlbCertificateRegion(settings: StackSettings, region: string): void {
  const arn = settings.alb.certificateArn;
  if (settings.apiMode !== 'alb' || arn === undefined) return;
  const certificateRegion = arn.split(':')[3];
  if (certificateRegion !== region) {
    throw new SettingsError(
      `context albCertificateArn is in ${certificateRegion}, the stack in ${region}: an ALB takes a certificate of its own region`,
    );
  }
}

/** Reads and validates every setting; throws a SettingsError naming the context key. */
export function readSettings(read: ContextReader): StackSettings {
  const apiMode = text(read, 'apiMode') ?? 'alb';
  if (apiMode !== 'alb' && apiMode !== 'apigateway') {
    throw new SettingsError(`context apiMode must be alb or apigateway, got ${apiMode}`);
  }
  const internetFacing = flag(read, 'albInternetFacing');
  const albCertificateArn = text(read, 'albCertificateArn');
  if (apiMode === 'alb' && albCertificateArn === undefined) {
    throw new SettingsError('context albCertificateArn is required in alb mode (HTTPS listener)');
  }
  const imageUri = text(read, 'imageUri');
  const secretsKmsKeyArn = text(read, 'secretsKmsKeyArn');
  const alarmEmail = text(read, 'alarmEmail');
  const exampleServerRoleTagValue = text(read, 'exampleServerRoleTagValue');
  const account = text(read, 'account');
  const region = text(read, 'region');
  const governance = tagGovernance(read);
  const minCount = integer(read, 'minTasks', 1, 0, 100);
  if (minCount === 0 && apiMode === 'alb') {
    throw new SettingsError(
      'context minTasks 0 needs apiMode=apigateway: in alb mode the API runs in the tasks',
    );
  }
  return {
    stackName: text(read, 'stackName') ?? 'AcmCertExport',
    ...(account === undefined
      ? {}
      : { account: matching('account', account, /^\d{12}$/, 'an account id') }),
    ...(region === undefined
      ? {}
      : { region: matching('region', region, /^[a-z]{2}(-[a-z]+)+-\d$/, 'a region') }),
    apiMode,
    names: {
      mappingTable: text(read, 'mappingTableName') ?? mappingTable.defaultName,
      deploymentsTable: text(read, 'deploymentsTableName') ?? deploymentsTable.defaultName,
      serversTable: text(read, 'serversTableName') ?? serversTable.defaultName,
      jobQueue: text(read, 'queueName') ?? jobQueue.defaultName,
      deadLetterQueue: text(read, 'deadLetterQueueName') ?? jobQueue.deadLetterName,
      documentName: text(read, 'documentName') ?? documentName,
      secretPrefix: passphraseSecretPrefix,
    },
    vpc: vpcSettings(read, internetFacing),
    alb: {
      ...(albCertificateArn === undefined
        ? {}
        : {
            certificateArn: matching(
              'albCertificateArn',
              albCertificateArn,
              certificateArn,
              'an ACM certificate ARN',
            ),
          }),
      internetFacing,
      ingressCidrs: list(read, 'albIngressCidrs'),
    },
    targetTagKey: targetTagKey(read),
    allowedReloadCommands: list(read, 'allowedReloadCommands').map((command) =>
      matching(
        'allowedReloadCommands',
        command.split(/\s+/).join(' '),
        /^\/[A-Za-z0-9 ._/:@=,+-]{0,255}$/,
        'absolute paths with arguments of letters, digits, spaces and . _ / : @ = , + -',
      ),
    ),
    allowedCertificateArns: list(read, 'allowedCertificateArns').map((arn) =>
      matching('allowedCertificateArns', arn, certificateArn, 'ACM certificate ARNs'),
    ),
    certificateRegions: [
      ...new Set(
        list(read, 'certificateRegions').map((region) =>
          matching('certificateRegions', region, /^[a-z]{2}(-[a-z]+)+-\d+$/, 'region names'),
        ),
      ),
    ],
    principalsJson: principalsJson(read),
    authAudience: text(read, 'authAudience') ?? 'acm-cert-export',
    image: imageUri === undefined ? { kind: 'asset' } : { kind: 'uri', uri: imageUri },
    ...(secretsKmsKeyArn === undefined
      ? {}
      : {
          secretsKmsKeyArn: matching(
            'secretsKmsKeyArn',
            secretsKmsKeyArn,
            /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-f0-9-]+$/,
            'a KMS key ARN',
          ),
        }),
    ...(alarmEmail === undefined
      ? {}
      : {
          alarmEmail: matching('alarmEmail', alarmEmail, /^[^@\s]+@[^@\s]+$/, 'an e-mail address'),
        }),
    ...(exampleServerRoleTagValue === undefined ? {} : { exampleServerRoleTagValue }),
    logRetentionDays: retentionDays(read),
    keyRotationDays: integer(read, 'keyRotationDays', 365, 90, 2560),
    task: {
      cpu: integer(read, 'cpu', 512, 256, 16384),
      memoryMiB: integer(read, 'memoryMiB', 1024, 512, 122880),
      minCount,
      maxCount: integer(read, 'maxTasks', Math.max(4, minCount), Math.max(1, minCount), 100),
      port: integer(read, 'port', 8080, 1024, 65535),
      metricsPort: integer(read, 'metricsPort', 9464, 1024, 65535),
      metricsIngressCidrs: list(read, 'metricsIngressCidrs'),
      spot: flag(read, 'fargateSpot'),
    },
    alarms: {
      oldestMessageSeconds: integer(read, 'oldestMessageAlarmSeconds', 900, 60, 1_209_600),
      expiryDays: integer(read, 'expiryAlarmDays', 14, 1, 90),
    },
    schedules: schedules(read),
    dashboard: flag(read, 'dashboard', true),
    apiGatewayCloudWatchRole: flag(read, 'apiGatewayCloudWatchRole', true),
    webAcl: webAcl(read),
    existingResources: existingResources(read),
    legacyDeploymentsIndex: flag(read, 'legacyDeploymentsIndex'),
    ...(governance === undefined ? {} : { tagGovernance: governance }),
  };
}
