import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { encryptedLogGroup } from './log-groups.ts';
import { type NetworkProfile, SettingsError, type VpcSettings } from './settings.ts';
import {
  addGatewayEndpoints,
  addInterfaceEndpoints,
  interfaceEndpointNeeds,
} from './vpc-endpoints.ts';

export interface Network {
  readonly vpc: ec2.IVpc;
  readonly cidr: string;
  readonly profile: NetworkProfile;
  /** Where the tasks run. */
  readonly taskSubnets: ec2.SubnetSelection;
  /** `public` only: the tasks reach AWS's APIs through their public IPs. */
  readonly assignPublicIp: boolean;
  /** Where an internal load balancer goes (an internet-facing one goes to the public subnets). */
  readonly internalSubnets: ec2.SubnetSelection;
}

export interface NetworkOptions {
  readonly logs: { readonly key: kms.IKey; readonly retentionDays: number };
  /** alb mode: the API runs in the task (it calls STS). */
  readonly apiInTask: boolean;
  /** The image is pulled from ECR (an `endpoints` network reaches no other registry). */
  readonly imageFromEcr: boolean;
}

/** The subnets of each profile in a new VPC; the names are those of the first release (nat). */
function subnetLayout(profile: NetworkProfile): ec2.SubnetConfiguration[] {
  const publicSubnets = { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 };
  switch (profile) {
    case 'nat':
      return [
        publicSubnets,
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ];
    case 'endpoints':
      // Public subnets only for an internet-facing load balancer: no task runs there.
      return [
        publicSubnets,
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
      ];
    case 'public':
      return [publicSubnets];
  }
}

function taskSubnetType(profile: NetworkProfile): ec2.SubnetType {
  switch (profile) {
    case 'nat':
      return ec2.SubnetType.PRIVATE_WITH_EGRESS;
    case 'endpoints':
      return ec2.SubnetType.PRIVATE_ISOLATED;
    case 'public':
      return ec2.SubnetType.PUBLIC;
  }
}

function natGatewayCount(settings: Extract<VpcSettings, { kind: 'new' }>, zones: number): number {
  if (settings.profile !== 'nat') return 0;
  if (settings.natGateways === 'per-zone') return zones;
  if (settings.natGateways > zones) {
    throw new SettingsError(
      `context natGateways is ${settings.natGateways}, but the VPC has ${zones} zones (at most one per zone)`,
    );
  }
  return settings.natGateways;
}

/**
 * The network the tasks run in, by profile (`networkProfile`): what they need to reach AWS's
 * APIs and nothing more. A new VPC gets flow logs and the free S3 and DynamoDB gateway
 * endpoints in every profile; `nat` adds NAT gateways (one, or one per zone), `endpoints` the
 * interface endpoints of `vpc-endpoints.ts` and no route out, `public` puts the tasks in public
 * subnets with public IPs. An imported VPC (by attributes: no lookup, synth stays offline) must
 * provide what its profile needs itself (docs/deploy.md).
 */
export function createNetwork(
  scope: Construct,
  settings: VpcSettings,
  options: NetworkOptions,
): Network {
  if (settings.profile === 'endpoints' && !options.imageFromEcr) {
    throw new SettingsError(
      'networkProfile=endpoints needs the image in ECR (the built image, or an ECR imageUri): no route leads to another registry',
    );
  }
  if (settings.kind === 'attributes') return importedNetwork(scope, settings);
  const zones = Stack.of(scope).availabilityZones;
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    // A literal CIDR (not the VPC's token) so security-group rules can be checked at synth.
    ipAddresses: ec2.IpAddresses.cidr(settings.cidr),
    // The stack's zones: the setting or the account's cached lookup (availability-zones.ts).
    availabilityZones: zones,
    natGateways: natGatewayCount(settings, zones.length),
    subnetConfiguration: subnetLayout(settings.profile),
  });
  Validations.of(vpc).acknowledge({
    id: 'CloudFormation-Validate::W3010',
    reason:
      'The zone names are the availabilityZones setting, checked against the region, or the zone lookup of the account cached in cdk.context.json: names the region has, never letters appended to it.',
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(
      encryptedLogGroup(scope, 'FlowLogGroup', options.logs),
    ),
    trafficType: ec2.FlowLogTrafficType.REJECT,
  });
  const taskSubnets = { subnetType: taskSubnetType(settings.profile) };
  addGatewayEndpoints(vpc, taskSubnets);
  if (settings.profile === 'endpoints') {
    addInterfaceEndpoints(
      scope,
      { vpc, cidr: settings.cidr, subnets: taskSubnets },
      interfaceEndpointNeeds(options),
    );
  }
  return {
    vpc,
    cidr: settings.cidr,
    profile: settings.profile,
    taskSubnets,
    assignPublicIp: settings.profile === 'public',
    internalSubnets: taskSubnets,
  };
}

function importedNetwork(
  scope: Construct,
  settings: Extract<VpcSettings, { kind: 'attributes' }>,
): Network {
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: settings.vpcId,
    vpcCidrBlock: settings.vpcCidr,
    availabilityZones: [...settings.availabilityZones],
    ...(settings.privateSubnetIds.length === 0
      ? {}
      : { privateSubnetIds: [...settings.privateSubnetIds] }),
    ...(settings.publicSubnetIds.length === 0
      ? {}
      : { publicSubnetIds: [...settings.publicSubnetIds] }),
  });
  const privateSubnets = { subnets: vpc.privateSubnets };
  const publicSubnets = { subnets: vpc.publicSubnets };
  const isPublic = settings.profile === 'public';
  return {
    vpc,
    cidr: settings.vpcCidr,
    profile: settings.profile,
    taskSubnets: isPublic ? publicSubnets : privateSubnets,
    assignPublicIp: isPublic,
    internalSubnets: vpc.privateSubnets.length > 0 ? privateSubnets : publicSubnets,
  };
}
