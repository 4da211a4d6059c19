import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { clientOptions } from '../../../src/aws/clients.ts';
import { testClients } from '../../support/aws.ts';
import { anIamUser } from '../../support/builders/iam-users.ts';

const { iam, config } = testClients();

describe('STS on the emulator', () => {
  it('returns the ARN of the IAM user who signed GetCallerIdentity', async () => {
    const alice = await anIamUser(iam, { userName: 'alice' });
    const bob = await anIamUser(iam, { userName: 'bob', path: '/ci/' });
    const whoAmI = async (credentials: typeof alice.credentials) => {
      const sts = new STSClient({ ...clientOptions(config, 'sts'), credentials });
      return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
    };
    expect(await whoAmI(alice.credentials)).toBe(alice.arn);
    expect(await whoAmI(bob.credentials)).toBe(bob.arn);
    expect(alice.arn).toMatch(/:user\/alice$/);
    expect(bob.arn).toMatch(/:user\/ci\/bob$/);
  });
});
