/**
 * SendCommand targets, resolved through moto's EC2 as Run Command resolves managed nodes:
 * `InstanceIds` must name existing running instances; `Targets` select running instances by
 * tag (several keys AND, several values OR). The tag `standin:behaviour` sets how the stand-in
 * server behaves in tests.
 */
import {
  DescribeInstancesCommand,
  type EC2Client,
  type Filter,
  type Instance,
} from '@aws-sdk/client-ec2';
import { SsmApiError } from './wire.ts';

/** `standin:behaviour` values; anything else (or no tag) is `normal`. */
export type Behaviour = 'normal' | 'slow' | 'fail' | 'hang' | 'unreachable' | 'instant';

export const behaviourTag = 'standin:behaviour';

export interface TargetInstance {
  readonly instanceId: string;
  /** What AWS reports as InstanceName (the node's host name). */
  readonly instanceName: string;
  readonly behaviour: Behaviour;
}

export interface Target {
  readonly Key: string;
  readonly Values: readonly string[];
}

const behaviours: readonly Behaviour[] = ['slow', 'fail', 'hang', 'unreachable', 'instant'];

function toTarget(instance: Instance): TargetInstance {
  const tag = instance.Tags?.find((t) => t.Key === behaviourTag)?.Value;
  const behaviour = behaviours.find((b) => b === tag) ?? 'normal';
  return {
    instanceId: instance.InstanceId ?? '',
    instanceName: instance.PrivateDnsName ?? '',
    behaviour,
  };
}

async function describe(ec2: EC2Client, input: { InstanceIds?: string[]; Filters?: Filter[] }) {
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

/** Running instances matching every target; an empty list is not an error (No Instances In Tag). */
export async function resolveTagTargets(
  ec2: EC2Client,
  targets: readonly Target[],
): Promise<TargetInstance[]> {
  if (targets.length === 0 || targets.length > 5) {
    throw new SsmApiError('ValidationException', 'Targets must hold 1 to 5 targets');
  }
  const filters = targets.map(targetFilter);
  filters.push({ Name: 'instance-state-name', Values: ['running'] });
  const instances = await describe(ec2, { Filters: filters });
  return instances.map(toTarget).sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

/** The named instances, in the order given; all must exist and be running (InvalidInstanceId). */
export async function resolveInstanceIds(
  ec2: EC2Client,
  instanceIds: readonly string[],
): Promise<TargetInstance[]> {
  const ids = [...new Set(instanceIds)];
  if (ids.length === 0 || ids.length > 50) {
    throw new SsmApiError('ValidationException', 'InstanceIds must hold 1 to 50 instance ids');
  }
  let instances: Instance[];
  try {
    instances = await describe(ec2, { InstanceIds: ids });
  } catch (error) {
    const code = (error as { name?: string }).name ?? '';
    if (code.startsWith('InvalidInstanceID')) {
      throw new SsmApiError(
        'InvalidInstanceId',
        `Instances [${ids.join(', ')}] not in a valid state`,
      );
    }
    throw error;
  }
  const running = new Map(
    instances.filter((i) => i.State?.Name === 'running').map((i) => [i.InstanceId, i]),
  );
  const missing = ids.filter((id) => !running.has(id));
  if (missing.length > 0) {
    throw new SsmApiError(
      'InvalidInstanceId',
      `Instances [[${missing.join(', ')}]] not in a valid state for account`,
    );
  }
  return ids.map((id) => toTarget(running.get(id) as Instance));
}
