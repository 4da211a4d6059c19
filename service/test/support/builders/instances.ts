import {
  type EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';

export interface InstanceOverrides {
  tags?: Record<string, string>;
  state?: 'running' | 'stopped' | 'terminated';
  imageId?: string;
}

/** An EC2 instance in the emulator with the given tags, left in the given state. */
export async function anInstance(
  ec2: EC2Client,
  overrides: InstanceOverrides = {},
): Promise<string> {
  const tags = Object.entries(overrides.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: overrides.imageId ?? 'ami-12c6146b',
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      ...(tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'instance', Tags: tags }] } : {}),
    }),
  );
  const id = out.Instances?.[0]?.InstanceId;
  if (id === undefined) throw new Error('RunInstances returned no instance');
  if (overrides.state === 'stopped')
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  if (overrides.state === 'terminated') {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  }
  return id;
}

/** Several instances sharing the same overrides. */
export async function instances(
  ec2: EC2Client,
  count: number,
  overrides: InstanceOverrides = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await anInstance(ec2, overrides));
  return ids;
}
