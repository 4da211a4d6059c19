import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { testClients } from '../../support/aws.ts';

const { sqs } = testClients();

async function queue(name: string, attributes: Record<string, string> = {}) {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (QueueUrl === undefined) throw new Error('no queue url');
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

async function receiveOne(url: string, waitSeconds = 0) {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return Messages?.[0];
}

describe('SQS on the emulator', () => {
  it('hides a message for the time ChangeMessageVisibility sets, then redelivers it', async () => {
    const q = await queue('visibility', { VisibilityTimeout: '30' });
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'poll-me' }));
    const first = await receiveOne(q.url);
    expect(first?.Body).toBe('poll-me');
    expect(await receiveOne(q.url)).toBeUndefined();

    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: q.url,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 1,
      }),
    );
    expect(await receiveOne(q.url)).toBeUndefined();
    await sleep(1200);
    const again = await receiveOne(q.url, 2);
    expect(again?.Body).toBe('poll-me');
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const dlq = await queue('jobs-dlq');
    const q = await queue('jobs', {
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'poison' }));
    expect((await receiveOne(q.url))?.Body).toBe('poison');
    expect((await receiveOne(q.url))?.Body).toBe('poison');
    expect(await receiveOne(q.url)).toBeUndefined();
    expect((await receiveOne(dlq.url, 1))?.Body).toBe('poison');
  });
});
