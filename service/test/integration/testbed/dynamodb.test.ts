import { ConditionalCheckFailedException, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { testClients } from '../../support/aws.ts';

const { dynamodb, dynamodbRaw } = testClients();

describe('DynamoDB on the emulator', () => {
  it('rejects a conditional write that conflicts and keeps the first item', async () => {
    await dynamodbRaw.send(
      new CreateTableCommand({
        TableName: 'CertTagMapping',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'TagKeyValue', AttributeType: 'S' },
          { AttributeName: 'CertificateArn#CertName', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'TagKeyValue', KeyType: 'HASH' },
          { AttributeName: 'CertificateArn#CertName', KeyType: 'RANGE' },
        ],
      }),
    );
    const key = { TagKeyValue: 'env#dev', 'CertificateArn#CertName': 'arn:x#web' };
    const put = (version: number) =>
      dynamodb.send(
        new PutCommand({
          TableName: 'CertTagMapping',
          Item: { ...key, version },
          ConditionExpression: 'attribute_not_exists(TagKeyValue)',
        }),
      );
    await put(1);
    await expect(put(2)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const { Item } = await dynamodb.send(new GetCommand({ TableName: 'CertTagMapping', Key: key }));
    expect(Item?.version).toBe(1);
  });

  it('lets one of many racing conditional writers take a lock, as DynamoDB does (local/moto/dynamodb_atomic.py)', async () => {
    // moto serves requests on threads; without the patch a condition and its write can
    // interleave with another request's, and two writers both "acquire" the same item.
    for (let round = 0; round < 25; round++) {
      const key = { TagKeyValue: 'env#race', 'CertificateArn#CertName': `arn:x#lock-${round}` };
      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          dynamodb.send(
            new UpdateCommand({
              TableName: 'CertTagMapping',
              Key: key,
              UpdateExpression: 'SET lockHolder = :me',
              ConditionExpression: 'attribute_not_exists(lockHolder)',
              ExpressionAttributeValues: { ':me': `job-${i}` },
            }),
          ),
        ),
      );
      const won = attempts.filter((a) => a.status === 'fulfilled');
      expect(won, `round ${round}`).toHaveLength(1);
      for (const lost of attempts.filter((a) => a.status === 'rejected')) {
        expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(
          ConditionalCheckFailedException,
        );
      }
    }
  });
});
