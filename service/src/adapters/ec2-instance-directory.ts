import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { InstanceDirectory, InstanceInfo } from '../ports/instance-directory.ts';
import { awsErrorName, classify, withRetry } from './aws-errors.ts';

/** EC2 through the SDK. */
export class Ec2InstanceDirectory implements InstanceDirectory {
  readonly #ec2: EC2Client;

  constructor(ec2: EC2Client) {
    this.#ec2 = ec2;
  }

  async describe(instanceId: string): Promise<InstanceInfo | undefined> {
    const out = await withRetry(async () => {
      try {
        return await this.#ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      } catch (error) {
        if (awsErrorName(error) === 'InvalidInstanceID.NotFound') return undefined;
        throw classify(error, {}, (name) => `EC2 ${name} describing ${instanceId}`);
      }
    });
    const instance = out?.Reservations?.flatMap((r) => r.Instances ?? []).find(
      (i) => i.InstanceId === instanceId,
    );
    if (instance === undefined) return undefined;
    return {
      instanceId,
      state: instance.State?.Name ?? 'unknown',
      tags: Object.fromEntries(
        (instance.Tags ?? [])
          .filter((t) => t.Key !== undefined)
          .map((t) => [t.Key as string, t.Value ?? '']),
      ),
    };
  }
}
