import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { encryptedLogGroup } from './log-groups.ts';
import type { VpcSettings } from './settings.ts';

export interface Network {
  readonly vpc: ec2.IVpc;
  readonly cidr: string;
}

/**
 * The VPC: imported by attributes when the context names one (no lookup, so synth stays
 * offline), otherwise a new one with private subnets behind NAT and flow logs.
 */
export function createNetwork(
  scope: Construct,
  settings: VpcSettings,
  logs: { readonly key: kms.IKey; readonly retentionDays: number },
): Network {
  if (settings.kind === 'attributes') {
    const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
      vpcId: settings.vpcId,
      vpcCidrBlock: settings.vpcCidr,
      availabilityZones: [...settings.availabilityZones],
      privateSubnetIds: [...settings.privateSubnetIds],
      ...(settings.publicSubnetIds.length === 0
        ? {}
        : { publicSubnetIds: [...settings.publicSubnetIds] }),
    });
    return { vpc, cidr: settings.vpcCidr };
  }
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    // A literal CIDR (not the VPC's token) so security-group rules can be checked at synth.
    ipAddresses: ec2.IpAddresses.cidr(settings.cidr),
    // The stack's zones (from the settings, see AcmCertExportStack.availabilityZones).
    availabilityZones: Stack.of(scope).availabilityZones,
    natGateways: settings.natGateways,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
  });
  Validations.of(vpc).acknowledge({
    id: 'CloudFormation-Validate::W3010',
    reason:
      'The zones are named (context availabilityZones, default <region>a and <region>b) so that synth needs no lookup in the account; a lookup would hard-code the same names.',
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(
      encryptedLogGroup(scope, 'FlowLogGroup', logs),
    ),
    trafficType: ec2.FlowLogTrafficType.REJECT,
  });
  return { vpc, cidr: settings.cidr };
}
