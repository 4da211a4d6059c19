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

import type { Instance } from '@aws-sdk/client-ec2';
import { isTagKey, matchesFilters, readInstanceFilters } from './instance-filters.ts';
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

/**
 * The EC2 instances one listing pages through. Tag filters (which SSM allows with no other
 * filter) are handed to moto's DescribeInstances, which serializes only the matches; the first
 * page reads moto, the pages after it (NextToken) reuse that read for a minute, as one listing:
 * a fleet of thousands costs moto one DescribeInstances, not one per page of 50.
 */
const listings = new WeakMap<object, Map<string, { at: number; instances: Instance[] }>>();

async function instancesOf(
  input: Record<string, unknown>,
  filters: ReturnType<typeof readInstanceFilters>,
  context: Parameters<Operation>[1],
): Promise<Instance[]> {
  const tagOnly = filters.length > 0 && filters.every((f) => isTagKey(f.key));
  const ec2Filters = tagOnly
    ? filters.map((f) => ({ Name: f.key, Values: [...f.values] }))
    : undefined;
  const key = JSON.stringify(ec2Filters ?? null);
  const cache = listings.get(context) ?? new Map<string, { at: number; instances: Instance[] }>();
  listings.set(context, cache);
  const cached = cache.get(key);
  if (input.NextToken !== undefined && cached !== undefined && Date.now() - cached.at < 60_000) {
    return cached.instances;
  }
  const instances = await describeInstances(
    context.ec2,
    ec2Filters === undefined ? {} : { Filters: ec2Filters },
  );
  cache.set(key, { at: Date.now(), instances });
  return instances;
}

export const describeInstanceInformation: Operation = async (input, context) => {
  const filters = readInstanceFilters(input);
  const now = context.now();
  const instances = await instancesOf(input, filters, context);
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
