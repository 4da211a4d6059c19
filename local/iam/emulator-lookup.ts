/**
 * The recorder's own view of the emulator: resolves names to ARNs and reads tags at request
 * time. Its clients carry no app id and talk to moto directly, so they are never recorded.
 *
 * Hybrid (`mi-…`) managed nodes live in the Run Command stand-ins, not in moto: their tags and
 * their role (the activation's IamRole) are read from the stand-ins `runCommandEndpoints` names,
 * through the SSM API as anyone would (ListTagsForResource, DescribeInstanceInformation), and the
 * role's tags from moto's IAM. The stand-ins are called directly, not through their fronts.
 */
import { DescribeInstancesCommand, EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeInstanceInformationCommand,
  type InstanceInformation,
  type InstanceInformationStringFilter,
  ListTagsForResourceCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { ResourceLookup } from './iam-request.ts';

const emulatorCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function tagMap(tags: readonly { Key?: string; Value?: string }[] | undefined) {
  return Object.fromEntries(
    (tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key as string, t.Value ?? '']),
  );
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string }).name;
}

export interface EmulatorLookup extends ResourceLookup {
  destroy(): void;
}

/** Answers of a stand-in that mean "not one of my nodes". */
const notMine = ['InvalidResourceId', 'InvalidInstanceId', 'ValidationException'];

type Targets = readonly { key: string; values: readonly string[] }[];

function matchesTargets(id: string, tags: Record<string, string>, targets: Targets): boolean {
  return targets.every(({ key, values }) => {
    if (key === 'InstanceIds') return values.includes(id);
    if (key === 'tag-key') return values.some((k) => k in tags);
    const value = tags[key.slice('tag:'.length)];
    return value !== undefined && values.includes(value);
  });
}

/**
 * `runCommandEndpoints`: the Run Command stand-ins whose hybrid nodes count (read at each
 * lookup: stand-ins come and go).
 */
export function emulatorLookup(
  motoEndpoint: string,
  region = 'us-east-1',
  runCommandEndpoints: () => readonly string[] = () => [],
): EmulatorLookup {
  const options = { region, endpoint: motoEndpoint, credentials: emulatorCredentials };
  const sm = new SecretsManagerClient(options);
  const ec2 = new EC2Client(options);
  const iam = new IAMClient(options);
  const standIns = new Map<string, SSMClient>();
  const ssmOf = (endpoint: string) => {
    let client = standIns.get(endpoint);
    if (client === undefined) {
      // The SDK's retries of transient failures: a pooled connection the stand-in closed (its
      // keep-alive timeout) just as a lookup reused it is a 'socket hang up' on a busy machine.
      client = new SSMClient({ ...options, endpoint, maxAttempts: 3 });
      standIns.set(endpoint, client);
    }
    return client;
  };

  /** The node's tags from the first stand-in that knows it. */
  async function hybridTags(instanceId: string): Promise<Record<string, string> | undefined> {
    for (const endpoint of runCommandEndpoints()) {
      try {
        const out = await ssmOf(endpoint).send(
          new ListTagsForResourceCommand({
            ResourceType: 'ManagedInstance',
            ResourceId: instanceId,
          }),
        );
        return tagMap(out.TagList);
      } catch (error) {
        if (notMine.includes(errorName(error) ?? '')) continue;
        throw error;
      }
    }
    return undefined;
  }

  /** Every node of a stand-in's DescribeInstanceInformation for these filters, across pages. */
  async function nodesOf(
    endpoint: string,
    filters: InstanceInformationStringFilter[],
  ): Promise<InstanceInformation[]> {
    const found: InstanceInformation[] = [];
    let token: string | undefined;
    do {
      const out = await ssmOf(endpoint).send(
        new DescribeInstanceInformationCommand({
          Filters: filters,
          MaxResults: 50,
          NextToken: token,
        }),
      );
      found.push(...(out.InstanceInformationList ?? []));
      token = out.NextToken;
    } while (token !== undefined);
    return found;
  }

  async function hybridTargeted(targets: Targets) {
    const found: { instanceId: string; tags: Record<string, string> }[] = [];
    for (const endpoint of runCommandEndpoints()) {
      const nodes = await nodesOf(endpoint, [{ Key: 'ResourceType', Values: ['ManagedInstance'] }]);
      for (const node of nodes) {
        const id = node.InstanceId;
        if (id === undefined) continue;
        const tags = await hybridTags(id);
        if (tags !== undefined && matchesTargets(id, tags, targets)) {
          found.push({ instanceId: id, tags });
        }
      }
    }
    return found;
  }

  async function describeInstances(filters: Filter[], instanceIds?: string[]) {
    try {
      const out = await ec2.send(
        new DescribeInstancesCommand({
          Filters: filters,
          ...(instanceIds === undefined ? {} : { InstanceIds: instanceIds }),
        }),
      );
      return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    } catch (error) {
      if (errorName(error) === 'InvalidInstanceID.NotFound') return [];
      throw error;
    }
  }

  return {
    async secret(secretId) {
      try {
        const out = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
        return out.ARN === undefined ? undefined : { arn: out.ARN, tags: tagMap(out.Tags) };
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    async instanceTags(instanceId) {
      if (instanceId.startsWith('mi-')) return hybridTags(instanceId);
      const [instance] = await describeInstances([], [instanceId]);
      return instance === undefined ? undefined : tagMap(instance.Tags);
    },
    async instancesTargeted(targets) {
      // Run Command reaches running nodes only; several keys AND, several values OR.
      const filters: Filter[] = [{ Name: 'instance-state-name', Values: ['running'] }];
      let ids: string[] | undefined;
      for (const { key, values } of targets) {
        if (key === 'InstanceIds') ids = values.filter((id) => !id.startsWith('mi-'));
        else if (key === 'tag-key') filters.push({ Name: 'tag-key', Values: [...values] });
        else filters.push({ Name: key, Values: [...values] });
      }
      const found = ids?.length === 0 ? [] : await describeInstances(filters, ids);
      return found
        .filter((i) => i.InstanceId !== undefined)
        .map((i) => ({ instanceId: i.InstanceId as string, tags: tagMap(i.Tags) }))
        .concat(await hybridTargeted(targets));
    },
    async hybridNodeRole(instanceId) {
      for (const endpoint of runCommandEndpoints()) {
        let nodes: InstanceInformation[];
        try {
          nodes = await nodesOf(endpoint, [{ Key: 'InstanceIds', Values: [instanceId] }]);
        } catch (error) {
          if (notMine.includes(errorName(error) ?? '')) continue;
          throw error;
        }
        const iamRole = nodes[0]?.IamRole;
        if (iamRole === undefined) continue;
        // IamRole may carry a path (service-role/Name); IAM finds a role by its name.
        const roleName = iamRole.split('/').at(-1) ?? iamRole;
        try {
          const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
          return Role?.Arn === undefined ? undefined : { arn: Role.Arn, tags: tagMap(Role.Tags) };
        } catch (error) {
          if (errorName(error) === 'NoSuchEntityException') return undefined;
          throw error;
        }
      }
      return undefined;
    },
    destroy() {
      sm.destroy();
      ec2.destroy();
      iam.destroy();
      for (const client of standIns.values()) client.destroy();
      standIns.clear();
    },
  };
}
