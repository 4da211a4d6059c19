import { ConditionalCheckFailedException, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
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
});
