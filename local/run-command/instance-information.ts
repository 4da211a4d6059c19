/**
 * DescribeInstanceInformation, answered from the stand-in's managed nodes (moto answers it with
 * HTTP 500): every running instance whose agent has registered and every registered hybrid
 * (`mi-…`) node, in the shape AWS returns (InstanceInformationList; MaxResults 5 to 50, default
 * 10; NextToken paging), one list sorted by id. Instance ids a filter names that EC2 does not
 * know, or `mi-` ids of no registered node, are InvalidInstanceId ("If you specify a node ID that
 * isn't valid or a node that you don't own, you receive an error", API reference).
 *
 * A hybrid node also shows ActivationId, IamRole ("the role assigned to an on-premises managed
 * node"), RegistrationDate and, when its activation had a DefaultInstanceName, Name; its
 * ResourceType is `ManagedInstance` (InstanceInformation in the SSM API model).
 */

import { matchesFilters, readInstanceFilters } from './instance-filters.ts';
import {
  compareVersions,
  currentAgentVersion,
  isTargetable,
  type ManagedNode,
  managedNodeOf,
  pingStatus,
} from './managed-nodes.ts';
import type { Operation } from './operations.ts';
import { page } from './paging.ts';
import { describeInstances } from './targets.ts';
import { epochSeconds, SsmApiError } from './wire.ts';

/** What every stand-in server reports as its operating system. */
const platform = { PlatformType: 'Linux', PlatformName: 'Amazon Linux', PlatformVersion: '2023' };

export function instanceInformationView(node: ManagedNode, now: number) {
  const status = pingStatus(node);
  const hybrid = node.hybrid;
  return {
    InstanceId: node.instanceId,
    PingStatus: status,
    // An unreachable agent last pinged when it registered; a reachable one pings all the time.
    LastPingDateTime: epochSeconds(new Date(status === 'Online' ? now : node.registeredAt)),
    AgentVersion: node.agentVersion,
    IsLatestVersion: compareVersions(node.agentVersion, currentAgentVersion) >= 0,
    ...platform,
    ...(hybrid === undefined
      ? {}
      : {
          ActivationId: hybrid.activationId,
          IamRole: hybrid.iamRole,
          RegistrationDate: epochSeconds(new Date(node.registeredAt)),
        }),
    ResourceType: node.resourceType,
    ...(hybrid?.name === undefined ? {} : { Name: hybrid.name }),
    IPAddress: node.ipAddress,
    ComputerName: node.instanceName,
  };
}

export const describeInstanceInformation: Operation = async (input, context) => {
  const filters = readInstanceFilters(input);
  const now = context.now();
  const instances = await describeInstances(context.ec2);
  const known = new Set(instances.map((instance) => instance.InstanceId));
  const unknown = filters
    .filter((filter) => filter.key === 'InstanceIds')
    .flatMap((filter) => filter.values.filter((id) => !known.has(id) && !context.hybrid.has(id)));
  if (unknown.length > 0) {
    throw new SsmApiError('InvalidInstanceId', `Invalid instance ids: ${unknown.join(', ')}`);
  }
  const nodes = instances
    // Stopped and terminated instances are not listed; their tags are not even read.
    .filter((instance) => instance.State?.Name === 'running')
    .map((instance) => managedNodeOf(instance, context.timing.agentRegistrationMs))
    .filter((node) => isTargetable(node, now))
    .concat(context.hybrid.managedNodes())
    .filter((node) => matchesFilters(node, filters))
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const { slice, ...rest } = page(nodes, input, { min: 5, max: 50, default: 10 });
  return {
    InstanceInformationList: slice.map((node) => instanceInformationView(node, now)),
    ...rest,
  };
};
