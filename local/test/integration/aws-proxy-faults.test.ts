import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsProxy, startAwsProxy } from '../../aws-proxy/aws-proxy.ts';

// The proxy's faults reach real SDK clients in a form they recognise: throttling and server
// errors in the request's protocol (SQS speaks JSON 1.0 in this SDK, EC2 its own query protocol,
// SNS the query protocol), dropped connections as network errors; each retried by the SDK's
// standard strategy and counted by kind and operation. Random draws are scripted.

const region = 'us-east-1';
let moto: string;
let proxy: AwsProxy;
/** The draws the proxy takes next; 0.99 (no fault) once used up. */
let draws: number[] = [];
let direct: SQSClient;
let queueUrl: string;
let queues = 0;

function through<T>(Client: new (config: object) => T, maxAttempts: number): T {
  return new Client({ region, endpoint: proxy.endpoint, maxAttempts });
}

async function failure(call: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await call;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('the call succeeded');
}

async function messagesInQueue(): Promise<number> {
  const { Attributes } = await direct.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages);
}

beforeAll(async () => {
  moto = process.env.AWS_ENDPOINT_URL as string;
  direct = new SQSClient({ region, endpoint: moto });
  proxy = await startAwsProxy({ target: moto, random: () => draws.shift() ?? 0.99 });
});

afterAll(async () => {
  direct?.destroy();
  await proxy?.stop();
});

beforeEach(async () => {
  draws = [];
  proxy.setFaults({});
  proxy.reset();
  // A queue of its own for each test (moto allows a purge once a minute).
  queues += 1;
  ({ QueueUrl: queueUrl = '' } = await direct.send(
    new CreateQueueCommand({ QueueName: `proxy-faults-${queues}` }),
  ));
});

describe('throttling', () => {
  it('answers JSON calls with ThrottlingException, which the SDK retries', async () => {
    proxy.setFaults({ throttle: 0.5 });
    const once = through(SQSClient, 1);
    draws = [0.1];
    const error = await failure(
      once.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'a' })),
    );
    expect(error.name).toBe('ThrottlingException');
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);

    const retrying = through(SQSClient, 3);
    draws = [0.1, 0.9];
    const out = await retrying.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'b' }),
    );
    expect(out.$metadata.attempts).toBe(2);
    expect(proxy.faults.get('throttle AmazonSQS.SendMessage')).toBe(2);
    expect(proxy.faultTotals.get('throttle')).toBe(2);
    expect(proxy.throttled.get('AmazonSQS.SendMessage')).toBe(2);
    expect(proxy.counts.get('AmazonSQS.SendMessage')).toBe(1);
    expect(await messagesInQueue()).toBe(1);
    once.destroy();
    retrying.destroy();
  });

  it('answers EC2 with RequestLimitExceeded and the query protocol with Throttling', async () => {
    proxy.setFaults({ throttle: 1 });
    const ec2 = through(EC2Client, 1);
    const sns = through(SNSClient, 1);
    const ec2Error = await failure(ec2.send(new DescribeInstancesCommand({})));
    expect(ec2Error.name).toBe('RequestLimitExceeded');
    expect((ec2Error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(503);
    const snsError = await failure(sns.send(new ListTopicsCommand({})));
    expect(snsError.name).toBe('Throttling');
    expect((snsError.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
    expect(Object.fromEntries(proxy.faults)).toEqual({
      'throttle Query:DescribeInstances': 1,
      'throttle Query:ListTopics': 1,
    });
    ec2.destroy();
    sns.destroy();
  });

  it('keeps the older throttleShare to JSON calls and spares neverThrottle', async () => {
    const older = await startAwsProxy({
      target: moto,
      throttleShare: 1,
      neverThrottle: ['AmazonSQS.GetQueueAttributes'],
    });
    try {
      const ec2 = new EC2Client({ region, endpoint: older.endpoint, maxAttempts: 1 });
      const sqs = new SQSClient({ region, endpoint: older.endpoint, maxAttempts: 1 });
      await ec2.send(new DescribeInstancesCommand({}));
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl }));
      const error = await failure(
        sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'c' })),
      );
      expect(error.name).toBe('ThrottlingException');
      expect(Object.fromEntries(older.throttled)).toEqual({ 'AmazonSQS.SendMessage': 1 });
      expect(Object.fromEntries(older.faultTotals)).toEqual({ throttle: 1 });
      ec2.destroy();
      sqs.destroy();
    } finally {
      await older.stop();
    }
  });
});

describe('server errors', () => {
  it('answers 500 InternalFailure and 503 ServiceUnavailable in turn, retried by the SDK', async () => {
    proxy.setFaults({ serverError: 0.5 });
    const once = through(SQSClient, 1);
    const ec2 = through(EC2Client, 1);
    draws = [0.1, 0.1, 0.1];
    const first = await failure(
      once.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'd' })),
    );
    const second = await failure(
      once.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'e' })),
    );
    const third = await failure(ec2.send(new DescribeInstancesCommand({})));
    expect([first.name, (first.$metadata as { httpStatusCode: number }).httpStatusCode]).toEqual([
      'InternalFailure',
      500,
    ]);
    expect([second.name, (second.$metadata as { httpStatusCode: number }).httpStatusCode]).toEqual([
      'ServiceUnavailable',
      503,
    ]);
    expect([third.name, (third.$metadata as { httpStatusCode: number }).httpStatusCode]).toEqual([
      'InternalError',
      500,
    ]);

    const retrying = through(SQSClient, 3);
    draws = [0.1, 0.9];
    const out = await retrying.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'f' }),
    );
    expect(out.$metadata.attempts).toBe(2);
    expect(Object.fromEntries(proxy.faults)).toEqual({
      'internal-failure AmazonSQS.SendMessage': 1,
      'service-unavailable AmazonSQS.SendMessage': 2,
      'internal-failure Query:DescribeInstances': 1,
    });
    expect(Object.fromEntries(proxy.faultTotals)).toEqual({
      'internal-failure': 2,
      'service-unavailable': 2,
    });
    expect(await messagesInQueue()).toBe(1);
    once.destroy();
    ec2.destroy();
    retrying.destroy();
  });
});

describe('latency', () => {
  it('delays the chosen share, then forwards them', async () => {
    proxy.setFaults({ latency: { share: 0.5, minMs: 10, maxMs: 30 } });
    const sqs = through(SQSClient, 1);
    // A delayed request (draw, then its length), then one on time.
    draws = [0.1, 0.5, 0.9];
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'g' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'h' }));
    expect(Object.fromEntries(proxy.faults)).toEqual({ 'latency AmazonSQS.SendMessage': 1 });
    expect(proxy.counts.get('AmazonSQS.SendMessage')).toBe(2);
    expect(await messagesInQueue()).toBe(2);
    sqs.destroy();
  });
});

describe('dropped connections', () => {
  it('drops before forwarding, then after the target acted: network errors, counted apart', async () => {
    proxy.setFaults({ drop: 0.5 });
    const once = through(SQSClient, 1);
    draws = [0.1];
    const before = await failure(
      once.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'i' })),
    );
    expect(before.code).toBe('ECONNRESET');
    // The queue never saw it.
    expect(await messagesInQueue()).toBe(0);
    draws = [0.1];
    const after = await failure(
      once.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'j' })),
    );
    expect(after.code).toBe('ECONNRESET');
    // The queue took it; the client never heard so.
    expect(await messagesInQueue()).toBe(1);
    expect(Object.fromEntries(proxy.faults)).toEqual({
      'drop-before AmazonSQS.SendMessage': 1,
      'drop-after AmazonSQS.SendMessage': 1,
    });
    expect(proxy.counts.get('AmazonSQS.SendMessage')).toBe(1);
    once.destroy();
  });

  it('is retried by the SDK as a network error', async () => {
    proxy.setFaults({ drop: 0.5 });
    const retrying = through(SQSClient, 3);
    draws = [0.1, 0.9];
    const out = await retrying.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'k' }),
    );
    expect(out.$metadata.attempts).toBe(2);
    expect(proxy.faultTotals.get('drop-before')).toBe(1);
    expect(await messagesInQueue()).toBe(1);
    retrying.destroy();
  });

  it('spares neverFault operations and stops when the faults are cleared', async () => {
    const spared = await startAwsProxy({
      target: moto,
      faults: { drop: 1, serverError: 1, throttle: 1 },
      neverFault: ['AmazonSQS.GetQueueAttributes'],
    });
    try {
      const sqs = new SQSClient({ region, endpoint: spared.endpoint, maxAttempts: 1 });
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl }));
      await failure(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'l' })));
      spared.setFaults({});
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'm' }));
      expect(Object.fromEntries(spared.faultTotals)).toEqual({ throttle: 1 });
      expect(Object.fromEntries(spared.counts)).toEqual({
        'AmazonSQS.GetQueueAttributes': 1,
        'AmazonSQS.SendMessage': 1,
      });
      sqs.destroy();
    } finally {
      await spared.stop();
    }
  });
});
