import { PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { testClients } from '../../support/aws.ts';
import { aCertificateAvailableEvent } from '../../support/builders/acm-events.ts';

const { sqs, eventbridge } = testClients();

describe('EventBridge on the emulator', () => {
  it('delivers a matching ACM renewal event to the queue and not a non-matching one', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'renewals' }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await eventbridge.send(
      new PutRuleCommand({
        Name: 'acm-renewal',
        EventPattern: JSON.stringify({
          'detail-type': ['ACM Certificate Available'],
          detail: { Action: ['RENEWAL'] },
        }),
      }),
    );
    await eventbridge.send(
      new PutTargetsCommand({
        Rule: 'acm-renewal',
        Targets: [{ Id: 'q', Arn: Attributes?.QueueArn }],
      }),
    );

    // Only AWS may publish source aws.acm: the test publishes the same shape from its own source.
    const renewal = aCertificateAvailableEvent({ action: 'RENEWAL', source: 'test.acm' });
    const issuance = aCertificateAvailableEvent({ action: 'ISSUANCE', source: 'test.acm' });
    const put = await eventbridge.send(
      new PutEventsCommand({
        Entries: [renewal, issuance].map((e) => ({
          Source: e.source,
          DetailType: e['detail-type'],
          Detail: JSON.stringify(e.detail),
          Resources: e.resources,
        })),
      }),
    );
    expect(put.FailedEntryCount).toBe(0);

    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages).toHaveLength(1);
    const body = JSON.parse(Messages?.[0]?.Body ?? '{}');
    expect(body['detail-type']).toBe('ACM Certificate Available');
    expect(body.detail.Action).toBe('RENEWAL');
    expect(body.resources).toEqual(renewal.resources);
  });
});
