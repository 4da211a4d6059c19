import { randomUUID } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { testClients } from '../../support/aws.ts';

// What AWS answers for a secret scheduled for deletion (local/moto/secretsmanager_deletion.py).
const markedForDeletion = {
  name: 'InvalidRequestException',
  message: "You can't perform this operation on the secret because it was marked for deletion.",
};

const { secretsManager: sm } = testClients();

let name: string;
let firstVersion: string;

beforeEach(async () => {
  name = `deletion-${randomUUID().slice(0, 8)}`;
  const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'first' }));
  firstVersion = created.VersionId ?? '';
  await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
});

describe('a secret scheduled for deletion on the emulator', () => {
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
  it.each([
    ['GetSecretValue', () => new GetSecretValueCommand({ SecretId: name })],
    ['PutSecretValue', () => new PutSecretValueCommand({ SecretId: name, SecretString: 'x' })],
    ['UpdateSecret', () => new UpdateSecretCommand({ SecretId: name, SecretString: 'x' })],
    [
      'UpdateSecretVersionStage',
      () =>
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'STAGED',
          MoveToVersionId: firstVersion,
        }),
    ],
    [
      'TagResource',
      () => new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'env', Value: 'dev' }] }),
    ],
    ['UntagResource', () => new UntagResourceCommand({ SecretId: name, TagKeys: ['env'] })],
    [
      'PutResourcePolicy',
      () => new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: policy }),
    ],
    ['GetResourcePolicy', () => new GetResourcePolicyCommand({ SecretId: name })],
    ['DeleteResourcePolicy', () => new DeleteResourcePolicyCommand({ SecretId: name })],
    ['RotateSecret', () => new RotateSecretCommand({ SecretId: name })],
    ['CancelRotateSecret', () => new CancelRotateSecretCommand({ SecretId: name })],
    ['DeleteSecret again', () => new DeleteSecretCommand({ SecretId: name })],
  ] as const)('refuses %s as AWS does', async (_, command) => {
    // biome-ignore lint/suspicious/noExplicitAny: one table of differently typed commands
    await expect(sm.send(command() as any)).rejects.toMatchObject(markedForDeletion);
  });

  it('refuses a new secret of the same name', async () => {
    await expect(
      sm.send(new CreateSecretCommand({ Name: name, SecretString: 'again' })),
    ).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message:
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
    });
  });

  it('still describes it, with its deletion date, and lists its versions', async () => {
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    const { Versions } = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(Versions?.map((v) => v.VersionId)).toEqual([firstVersion]);
  });

  it('works again once restored, with its versions kept', async () => {
    await sm.send(new RestoreSecretCommand({ SecretId: name }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBe(
      undefined,
    );
    const read = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    expect(read).toMatchObject({ SecretString: 'first', VersionId: firstVersion });

    const put = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'next' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(
      'next',
    );
    const previous = await sm.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous).toMatchObject({ SecretString: 'first', VersionId: firstVersion });
    expect(put.VersionId).not.toBe(firstVersion);
  });

  it('can still be deleted for good, after which the name is free', async () => {
    await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'new' }));
    expect(created.Name).toBe(name);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('new');
  });
});
