import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeCertificateCommand, RenewCertificateCommand } from '@aws-sdk/client-acm';
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendExpiryCheck } from '../../../../local/scheduled-runs.ts';
import { SnsNotifier } from '../../../src/adapters/sns-notifier.ts';
import { TerminalError } from '../../../src/domain/errors.ts';
import { certificateArnCertName, tagKeyValue } from '../../../src/domain/target.ts';
import { sameSerial } from '../../../src/worker/certificate-info.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished, jobsStartedBy } from './helpers.ts';

// The expiry check's notifications end to end: a renewal that one server did not take, the
// worker's daily check 25 hours later, and the message it publishes to the alarm topic, read from
// an SQS queue subscribed to that topic in the emulator. The worker's Publish is evaluated
// against the task role of the synthesized stack (and the topic's policy), in both API modes.

/** What SNS delivers to an SQS subscription (no raw delivery): the envelope. */
interface Delivered {
  readonly Subject: string;
  readonly Message: string;
  readonly TopicArn: string;
  readonly MessageAttributes: Record<string, { Type: string; Value: string }>;
}

let system: RunningSystem;
let topicArn: string;
let subscriptionQueueUrl: string;
const target = `notify-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  system = await aRunningSystem();
  topicArn = system.provisioned.notifyTopicArn ?? '';
  expect(system.config.notifications.topicArn).toBe(topicArn);
  const { sqs, sns } = system.clients;
  subscriptionQueueUrl =
    (await sqs.send(new CreateQueueCommand({ QueueName: `notifications-${target}` }))).QueueUrl ??
    '';
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: subscriptionQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }),
  );
});

afterAll(async () => {
  await system?.stop();
});

/** The first notification about `certificateArn` the subscription receives. */
async function notificationAbout(certificateArn: string, timeoutMs = 30_000): Promise<Delivered> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { Messages = [] } = await system.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: subscriptionQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    for (const m of Messages) {
      await system.clients.sqs.send(
        new DeleteMessageCommand({
          QueueUrl: subscriptionQueueUrl,
          ReceiptHandle: m.ReceiptHandle,
        }),
      );
      const delivered = JSON.parse(m.Body ?? '{}') as Delivered;
      if (delivered.MessageAttributes?.certificateArn?.Value === certificateArn) return delivered;
    }
    await sleep(100);
  }
  throw new Error(`no notification about ${certificateArn} within ${timeoutMs} ms`);
}

describe('expiry notifications on the bed', () => {
  it('are published for a server still holding the old serial a day after the renewal', async () => {
    const arn = await anExportableCertificate(system.clients.acm);
    const renewed = await anInstance(system.clients.ec2, { tags: { env: target } });
    const behind = await anInstance(system.clients.ec2, { tags: { env: target } });
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: `it-notify-${target}`,
      certificateArn: arn,
      certName: 'notify',
      target: { key: 'env', value: target },
    });
    const first = await finished(system, `it-notify-${target}`);
    expect(first.status, first.reason).toBe('Succeeded');

    // From now on one server fails every install: it keeps the serial it has.
    await system.clients.ec2.send(
      new CreateTagsCommand({
        Resources: [behind],
        Tags: [{ Key: 'standin:behaviour', Value: 'fail' }],
      }),
    );
    await system.clients.acm.send(new RenewCertificateCommand({ CertificateArn: arn }));
    const [job] = await jobsStartedBy(system, arn, 'renewal', 1, 60_000);
    expect(job, 'no deployment started from the renewal event').toBeDefined();
    const renewal = await finished(system, job as string, 60_000);
    expect(renewal.status, renewal.reason).toBe('PartiallyFailed');
    const { Certificate } = await system.clients.acm.send(
      new DescribeCertificateCommand({ CertificateArn: arn }),
    );
    expect(sameSerial(renewal.certificate?.serial ?? '', Certificate?.Serial ?? '')).toBe(true);

    // A day and an hour later, as far as the mapping's record is concerned.
    const exportedAt = new Date(Date.now() - 25 * 3_600_000).toISOString();
    await system.clients.dynamodb.send(
      new UpdateCommand({
        TableName: system.provisioned.names.mappingTable,
        Key: {
          TagKeyValue: tagKeyValue({ key: 'env', value: target }),
          'CertificateArn#CertName': certificateArnCertName(arn, 'notify'),
        },
        UpdateExpression: 'SET LastExportedDate = :at',
        ExpressionAttributeValues: { ':at': exportedAt },
      }),
    );

    await sendExpiryCheck(system.clients.sqs, system.provisioned.queueUrl);
    const n = await notificationAbout(arn);
    expect(n.TopicArn).toBe(topicArn);
    expect(n.Subject).toBe(`acm-cert-export: 1 server missed the renewal - notify (env=${target})`);
    expect(n.MessageAttributes).toMatchObject({
      kind: { Type: 'String.Array', Value: '["behind"]' },
      certificateArn: { Type: 'String', Value: arn },
      certName: { Type: 'String', Value: 'notify' },
      target: { Type: 'String', Value: `env=${target}` },
      servers: { Type: 'Number', Value: '1' },
      notificationId: { Type: 'String', Value: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    expect(n.Message).toContain(`Certificate: ${arn}`);
    expect(n.Message).toContain('MISSED THE RENEWAL: serial');
    expect(n.Message).toContain('was exported 25 hours ago');
    expect(n.Message).toContain(`${behind}: serial `);
    expect(n.Message).toContain(`last job ${job} (Failed`);
    expect(n.Message).not.toContain(renewed);
    expect(
      system.logLines.some((l) => l.includes('"msg":"expiry check: notification published"')),
    ).toBe(true);
  }, 180_000);

  it('are refused for good (not retried) when the topic does not exist', async () => {
    const notifier = new SnsNotifier(
      system.clients.sns,
      `arn:aws:sns:us-east-1:123456789012:missing-${target}`,
    );
    const refused = await notifier
      .publish({ subject: 'test', message: 'test', attributes: { kind: ['behind'] } })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TerminalError);
    expect(refused).toMatchObject({ code: 'NotifyTopicNotFound' });
  });
});
