import { describe, expect, it } from 'vitest';
import { withTarget } from '../../figures.ts';
import { realAccountEnvironment, realAccountSettings } from '../../real-account.ts';
import {
  createRequestCounter,
  dynamoCallsOf,
  messagesDeletedBy,
  operationOf,
  updatedAttributes,
} from '../../request-counter.ts';

describe('request counter', () => {
  it('names operations as the counting proxy does', () => {
    expect(operationOf({ headers: { 'X-Amz-Target': 'DynamoDB_20120810.PutItem' } })).toBe(
      'DynamoDB_20120810.PutItem',
    );
    expect(operationOf({ headers: {}, body: 'Action=DescribeInstances&Version=2016-11-15' })).toBe(
      'Query:DescribeInstances',
    );
  });

  it('finds the top-level attributes an update writes', () => {
    expect(
      updatedAttributes(
        'SET LockJobId = :job, #d.x = :x, CreatedAt = if_not_exists(CreatedAt, :now) REMOVE Old, #r ADD Counter :one',
        { '#d': 'Data', '#r': 'Removed' },
      ).sort(),
    ).toEqual(['Counter', 'CreatedAt', 'Data', 'LockJobId', 'Old', 'Removed']);
  });

  it('reads what a DynamoDB request writes and reads from its wire body', () => {
    const put = dynamoCallsOf(
      'DynamoDB_20120810.BatchWriteItem',
      JSON.stringify({
        RequestItems: {
          S: [
            { PutRequest: { Item: { Owner: { S: 'a' } } } },
            { DeleteRequest: { Key: { Owner: { S: 'b' } } } },
          ],
        },
      }),
      {},
    );
    expect(put.map((c) => c.kind)).toEqual(['put', 'delete']);
    const query = dynamoCallsOf(
      'DynamoDB_20120810.Query',
      JSON.stringify({ TableName: 'S', ConsistentRead: true }),
      { Count: 3 },
    );
    expect(query).toEqual([{ kind: 'query', table: 'S', items: 3, consistent: true }]);
  });

  it('counts the messages deleted: one a DeleteMessage, the successful entries of a batch', async () => {
    expect(messagesDeletedBy('AmazonSQS.DeleteMessage', {})).toBe(1);
    expect(
      messagesDeletedBy('AmazonSQS.DeleteMessageBatch', {
        Successful: [{ Id: '0' }, { Id: '1' }],
        Failed: [{ Id: '2' }],
      }),
    ).toBe(2);
    expect(messagesDeletedBy('AmazonSQS.ReceiveMessage', { Messages: [{}] })).toBe(0);

    // Through the plugin's middleware, as the clients run it; reset() starts again at zero.
    const counter = createRequestCounter();
    let middleware:
      | ((
          next: (args: { request?: unknown }) => Promise<{ output?: unknown }>,
        ) => (args: { request?: unknown }) => Promise<{ output?: unknown }>)
      | undefined;
    counter.plugin.applyToStack({ add: (m: typeof middleware) => (middleware = m) } as never);
    const send = (target: string, output: unknown) =>
      middleware?.(async () => ({ output }))({ request: { headers: { 'x-amz-target': target } } });
    await send('AmazonSQS.DeleteMessageBatch', { Successful: [{ Id: '0' }, { Id: '1' }] });
    await send('AmazonSQS.DeleteMessage', {});
    expect(counter.messagesDeleted()).toBe(3);
    counter.reset();
    expect(counter.messagesDeleted()).toBe(0);
  });
});

describe('figures', () => {
  it('print their target beside the value and whether it is met', () => {
    expect(withTarget({ figure: 'requests_first_deployment', value: 14.2 })).toMatchObject({
      value: 14.2,
      target: 12,
      better: 'lower',
      met: false,
    });
    expect(withTarget({ figure: 'x', value: 3, target_max: 5 })).toMatchObject({
      target: 5,
      met: true,
    });
    expect(
      withTarget({ figure: 'y', value: 0.97, target: 0.95, better: 'higher', failed: 1 }),
    ).toMatchObject({ met: false });
    expect(withTarget({ figure: 'z', rps: 10 })).toMatchObject({
      value: null,
      target: null,
      met: null,
    });
  });
});

describe('real-account mode', () => {
  it('refuses without --real-account', () => {
    expect(() => realAccountEnvironment([], {})).toThrow(/--real-account/);
  });

  it('refuses without its settings, listing every one missing', () => {
    let message = '';
    try {
      realAccountEnvironment(['--real-account'], { AWS_REGION: 'us-east-1' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const s of realAccountSettings.filter((s) => s.env !== 'AWS_REGION')) {
      expect(message).toContain(s.flag);
      expect(message).toContain(s.env);
    }
    expect(message).not.toContain('--region');
  });

  it('takes settings from flags or the environment', () => {
    const env = realAccountEnvironment(
      [
        '--real-account',
        '--mapping-table',
        'M',
        '--certificate-arn',
        'arn:aws:acm:us-east-1:111122223333:certificate/x',
        '--target',
        'role=web',
      ],
      {
        AWS_REGION: 'us-east-1',
        DEPLOYMENTS_TABLE: 'D',
        SERVERS_TABLE: 'S',
        QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/q',
        DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/dlq',
      },
    );
    expect(env).toMatchObject({
      MAPPING_TABLE: 'M',
      DEPLOYMENTS_TABLE: 'D',
      BENCH_TARGET: 'role=web',
      TARGET_TAG_KEYS: 'role',
      API_ENABLED: 'false',
    });
  });
});
