import { randomUUID } from 'node:crypto';
import { CreateAccessKeyCommand, CreateUserCommand, type IAMClient } from '@aws-sdk/client-iam';

export interface IamUser {
  userName: string;
  arn: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** An IAM user with one access key, for signing requests as a distinct principal. */
export async function anIamUser(
  iam: IAMClient,
  overrides: { userName?: string; path?: string } = {},
): Promise<IamUser> {
  const userName = overrides.userName ?? `user-${randomUUID().slice(0, 8)}`;
  const { User } = await iam.send(
    new CreateUserCommand({ UserName: userName, Path: overrides.path ?? '/' }),
  );
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  const accessKeyId = AccessKey?.AccessKeyId;
  const secretAccessKey = AccessKey?.SecretAccessKey;
  if (User?.Arn === undefined || accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error('IAM user not created');
  }
  return {
    userName,
    arn: User.Arn,
    credentials: { accessKeyId, secretAccessKey },
  };
}
