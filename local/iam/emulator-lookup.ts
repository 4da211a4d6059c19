/**
 * The recorder's own view of the emulator: resolves names to ARNs and reads tags at request
 * time. Its clients carry no app id and talk to moto directly, so they are never recorded.
 */
import { DescribeInstancesCommand, EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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

export function emulatorLookup(motoEndpoint: string, region = 'us-east-1'): EmulatorLookup {
  const options = { region, endpoint: motoEndpoint, credentials: emulatorCredentials };
  const sm = new SecretsManagerClient(options);
  const ec2 = new EC2Client(options);

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
      const [instance] = await describeInstances([], [instanceId]);
      return instance === undefined ? undefined : tagMap(instance.Tags);
    },
    async instancesTargeted(targets) {
      // Run Command reaches running nodes only; several keys AND, several values OR.
      const filters: Filter[] = [{ Name: 'instance-state-name', Values: ['running'] }];
      let ids: string[] | undefined;
      for (const { key, values } of targets) {
        if (key === 'InstanceIds') ids = [...values];
        else if (key === 'tag-key') filters.push({ Name: 'tag-key', Values: [...values] });
        else filters.push({ Name: key, Values: [...values] });
      }
      const found = await describeInstances(filters, ids);
      return found
        .filter((i) => i.InstanceId !== undefined)
        .map((i) => ({ instanceId: i.InstanceId as string, tags: tagMap(i.Tags) }));
    },
    destroy() {
      sm.destroy();
      ec2.destroy();
    },
  };
}
