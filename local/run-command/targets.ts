/**
 * SendCommand targets, resolved as Run Command resolves managed nodes: EC2 instances through
 * moto's EC2, hybrid (`mi-…`) nodes from the stand-in's own registry (hybrid-nodes.ts), alike.
 * `InstanceIds` must name running instances whose agent has registered, or registered hybrid
 * nodes; `Targets` select those by tag (several keys AND, several values OR; a hybrid node's tags
 * are the ones set on the managed node) and skip the rest. On-premises nodes are targeted by tags
 * the same way as EC2 instances (Run Command user guide, "Targets and rate controls").
 */
import {
  DescribeInstancesCommand,
  type EC2Client,
  type Filter,
  type Instance,
} from '@aws-sdk/client-ec2';
import type { HybridFleet } from './hybrid-nodes.ts';
import { isTargetable, type ManagedNode, managedNodeOf } from './managed-nodes.ts';
import { SsmApiError } from './wire.ts';

export type TargetInstance = ManagedNode;

export interface Target {
  readonly Key: string;
  readonly Values: readonly string[];
}

/** What decides whether an instance is a managed node yet. */
export interface Registration {
  /** Now, epoch ms, on the stand-in's clock. */
  readonly now: number;
  /** Default delay between LaunchTime and the agent's registration. */
  readonly registrationMs: number;
}

/** moto's account id: AWS names it in InvalidInstanceId messages. */
export const emulatorAccountId = '123456789012';

/** Every instance DescribeInstances returns for the input, across pages. */
export async function describeInstances(
  ec2: EC2Client,
  input: { InstanceIds?: string[]; Filters?: Filter[] } = {},
): Promise<Instance[]> {
  const found: Instance[] = [];
  let token: string | undefined;
  do {
    const out = await ec2.send(new DescribeInstancesCommand({ ...input, NextToken: token }));
    for (const reservation of out.Reservations ?? []) found.push(...(reservation.Instances ?? []));
    token = out.NextToken;
  } while (token !== undefined);
  return found;
}

function targetFilter(target: Target): Filter {
  if (target.Values.length === 0) {
    throw new SsmApiError('ValidationException', `Target ${target.Key} has no values`);
  }
  const values = [...target.Values];
  if (target.Key.startsWith('tag:') && target.Key.length > 4)
    return { Name: target.Key, Values: values };
  if (target.Key === 'tag-key') return { Name: 'tag-key', Values: values };
  if (target.Key === 'InstanceIds') return { Name: 'instance-id', Values: values };
  throw new SsmApiError(
    'InvalidTarget',
    `The stand-in resolves targets with keys tag:<key>, tag-key and InstanceIds, not ${target.Key}`,
  );
}

/** Does a hybrid node match one target (checked by targetFilter already)? */
function nodeMatches(node: ManagedNode, target: Target): boolean {
  if (target.Key === 'InstanceIds') return target.Values.includes(node.instanceId);
  if (target.Key === 'tag-key') return target.Values.some((key) => node.tags.has(key));
  const value = node.tags.get(target.Key.slice('tag:'.length));
  return value !== undefined && target.Values.includes(value);
}

/**
 * Running, registered instances and registered hybrid nodes matching every target; an empty
 * list is not an error (No Instances In Tag). Instances whose agent has not registered yet are
 * not counted.
 */
export async function resolveTagTargets(
  ec2: EC2Client,
  targets: readonly Target[],
  registration: Registration,
  hybrid?: HybridFleet,
): Promise<TargetInstance[]> {
  if (targets.length === 0 || targets.length > 5) {
    throw new SsmApiError('ValidationException', 'Targets must hold 1 to 5 targets');
  }
  const filters = targets.map(targetFilter);
  filters.push({ Name: 'instance-state-name', Values: ['running'] });
  const instances = await describeInstances(ec2, { Filters: filters });
  const hybridNodes = (hybrid?.managedNodes() ?? []).filter((node) =>
    targets.every((target) => nodeMatches(node, target)),
  );
  return instances
    .map((instance) => managedNodeOf(instance, registration.registrationMs))
    .filter((node) => isTargetable(node, registration.now))
    .concat(hybridNodes)
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

/** AWS's answer for instance ids it cannot send to (checked against a recorded AWS answer). */
function notInValidState(ids: readonly string[]): SsmApiError {
  return new SsmApiError(
    'InvalidInstanceId',
    `Instances [[${ids.join(', ')}]] not in a valid state for account ${emulatorAccountId}`,
  );
}

/**
 * The named instances and hybrid nodes, in the order given; all must exist, run and have a
 * registered agent (InvalidInstanceId otherwise; an `mi-` id that is not registered, or no longer,
 * like an EC2 instance id EC2 does not know).
 */
export async function resolveInstanceIds(
  ec2: EC2Client,
  instanceIds: readonly string[],
  registration: Registration,
  hybrid?: HybridFleet,
): Promise<TargetInstance[]> {
  const ids = [...new Set(instanceIds)];
  if (ids.length === 0 || ids.length > 50) {
    throw new SsmApiError('ValidationException', 'InstanceIds must hold 1 to 50 instance ids');
  }
  const targetable = new Map<string, TargetInstance>();
  const ec2Ids: string[] = [];
  for (const id of ids) {
    if (!id.startsWith('mi-')) {
      ec2Ids.push(id);
      continue;
    }
    const node = hybrid?.managedNode(id);
    if (node !== undefined) targetable.set(id, node);
  }
  let instances: Instance[] = [];
  try {
    if (ec2Ids.length > 0) instances = await describeInstances(ec2, { InstanceIds: ec2Ids });
  } catch (error) {
    const code = (error as { name?: string }).name ?? '';
    if (code.startsWith('InvalidInstanceID')) {
      throw notInValidState(ids.filter((id) => ec2Ids.includes(id) || !targetable.has(id)));
    }
    throw error;
  }
  for (const instance of instances) {
    const node = managedNodeOf(instance, registration.registrationMs);
    if (isTargetable(node, registration.now)) targetable.set(node.instanceId, node);
  }
  const missing = ids.filter((id) => !targetable.has(id));
  if (missing.length > 0) throw notInValidState(missing);
  return ids.map((id) => targetable.get(id) as TargetInstance);
}
