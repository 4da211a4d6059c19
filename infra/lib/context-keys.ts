/**
 * The context keys the app reads, with what each means (docs/deploy.md lists the same; a test
 * checks that). Plain data.
 */
import {
  deploymentsTable,
  documentName,
  jobQueue,
  mappingTable,
  reconcileSchedule,
  serversTable,
  verifySchedule,
} from './resource-definitions.ts';

/** Every context key the app reads, with what it means; `docs/deploy.md` lists the same. */
export const contextKeys = {
  stackName: 'stack name (default AcmCertExport)',
  account: 'AWS account id (default CDK_DEFAULT_ACCOUNT)',
  region: 'AWS region (default CDK_DEFAULT_REGION); required',
  apiMode: '"alb" (default) or "apigateway"',
  mappingTableName: `default ${mappingTable.defaultName}`,
  deploymentsTableName: `default ${deploymentsTable.defaultName}`,
  serversTableName: `default ${serversTable.defaultName}`,
  queueName: `default ${jobQueue.defaultName}`,
  deadLetterQueueName: `default ${jobQueue.deadLetterName}`,
  documentName: `default ${documentName}`,
  vpcId:
    'import this VPC (with vpcCidr, availabilityZones, privateSubnetIds) instead of creating one',
  vpcCidr: 'CIDR of the imported VPC, or of the new one (default 10.80.0.0/16)',
  availabilityZones:
    'JSON list or comma list of zones of the region (new VPC default: the first two of the zone lookup cached in cdk.context.json)',
  networkProfile:
    '"nat" (default): NAT gateways; "endpoints": interface endpoints, no route out; "public": public subnets and IPs, HTTPS egress only',
  privateSubnetIds: 'JSON list or comma list, imported VPC only',
  publicSubnetIds: 'JSON list or comma list, imported VPC with an internet-facing ALB only',
  natGateways: 'new VPC, networkProfile=nat: NAT gateways, a number or "per-zone" (default 1)',
  albCertificateArn: 'ACM certificate ARN of the HTTPS listener (required in alb mode)',
  albInternetFacing: 'true for an internet-facing ALB (default false: internal)',
  albIngressCidrs: 'JSON list or comma list of CIDRs allowed to the listener (default VPC CIDR)',
  targetTagKey:
    'tag key selecting target servers (default env); the service refuses every other key',
  allowedReloadCommands:
    'JSON list of reload commands deployments may ask for, each an absolute path and arguments (default none); each server allow-lists its own too',
  allowedCertificateArns: 'JSON list or comma list of exportable certificate ARNs (default all)',
  certificateRegions:
    "JSON list or comma list of regions whose certificates the service exports, each in its own region (default the stack's region)",
  principals: 'AUTH_PRINCIPALS JSON: [{"principal":"arn:...","actions":[...],"targets":[...]}]',
  authAudience: 'value of the signed x-acm-cert-export-server-id header (default acm-cert-export)',
  imageUri: 'run this image instead of building the repository Dockerfile',
  secretsKmsKeyArn: 'customer KMS key for the passphrase secrets (default aws/secretsmanager)',
  alarmEmail: 'e-mail address subscribed to the alarm topic (alarms and expiry notifications)',
  exampleServerRoleTagValue: 'create example EC2 and on-premises server roles with this tag value',
  logRetentionDays: 'CloudWatch Logs retention (default 90)',
  keyRotationDays:
    'days between rotations of the logs-and-alarms KMS key, 90 to 2560 (default 365; each of its first two rotations adds $1/month)',
  cpu: 'task CPU units (default 512)',
  memoryMiB: 'task memory (default 1024)',
  minTasks: 'minimum tasks (default 1); 0 in apigateway mode: the worker scales to zero',
  fargateSpot: 'true: run the tasks on Fargate Spot (default false)',
  maxTasks: 'maximum tasks (default 4)',
  port: 'container port (default 8080)',
  dashboard:
    'true (default): the operations CloudWatch dashboard, <stackName>-operations ($3/month beyond the three free ones of an account)',
  metricsPort:
    'port of the Prometheus /metrics listener on each task, never behind the load balancer (default 9464)',
  metricsIngressCidrs:
    'JSON list or comma list of CIDRs that may scrape /metrics on the tasks (default none: the port stays shut)',
  oldestMessageAlarmSeconds: 'alarm when a job waits this long (default 900)',
  expiryAlarmDays:
    'alarm, and notify, when an installed copy of a managed certificate expires in fewer days (default 14)',
  reconcileSchedule: `EventBridge Scheduler expression of the reconciliation sweep, rate(…) or cron(…) in UTC, or off (default ${reconcileSchedule.defaultExpression})`,
  verifySchedule: `EventBridge Scheduler expression of the verify sweep (the reconciliation sweep that also checks the servers’ files), or off (default ${verifySchedule.defaultExpression}: 03:00 UTC daily)`,
  apiGatewayCloudWatchRole:
    'apigateway mode: set the account-level API Gateway CloudWatch Logs role (default true); false when the account already has one',
  webAcl:
    'WAF web ACL for the API entry: none (default), create (AWS managed rules and a rate limit), or an existing regional web ACL ARN',
  existingResources:
    'comma list of mappingTable, deploymentsTable, serversTable, queues: resources of the configured names that already exist (retained from a deleted stack, or the sample) and are imported, not created',
  legacyDeploymentsIndex:
    'true for the first of two deployments that upgrade a stack whose deployments table has CertificateArnIndex (all attributes): it keeps that index while the keys-only one is added (default false)',
  tagGovernance: 'true: create the tag-governance permissions boundary (needs tagAdminRoleArns)',
  tagAdminRoleArns:
    'JSON list or comma list of the role ARNs that may still change the target tag on roles and the passphrase secrets',
} as const;

export type ContextKey = keyof typeof contextKeys;

/** Reads one context value; `app.node.tryGetContext` in the app, a map in tests. */
export type ContextReader = (key: ContextKey) => unknown;
