import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, NotificationAttribute, Notifier } from '../ports/notifier.ts';
import { classify, withRetry } from './aws-errors.ts';

/** Errors that publishing again cannot cure: the topic, its key or the grant is wrong. */
const terminal: Readonly<Record<string, string>> = {
  NotFoundException: 'NotifyTopicNotFound',
  AuthorizationErrorException: 'AccessDenied',
  InvalidParameterException: 'NotificationInvalid',
  InvalidParameterValueException: 'NotificationInvalid',
  InvalidSecurityException: 'AccessDenied',
  KMSAccessDeniedException: 'NotifyTopicKeyUnusable',
  KMSDisabledException: 'NotifyTopicKeyUnusable',
  KMSInvalidStateException: 'NotifyTopicKeyUnusable',
  KMSNotFoundException: 'NotifyTopicKeyUnusable',
  KMSOptInRequired: 'NotifyTopicKeyUnusable',
};

function attribute(value: NotificationAttribute): MessageAttributeValue {
  if (typeof value === 'number') return { DataType: 'Number', StringValue: String(value) };
  if (typeof value === 'string') return { DataType: 'String', StringValue: value };
  return { DataType: 'String.Array', StringValue: JSON.stringify(value) };
}

/** Notifications as messages of one SNS topic (the stack's alarm topic). */
export class SnsNotifier implements Notifier {
  readonly #sns: SNSClient;
  readonly #topicArn: string;

  constructor(sns: SNSClient, topicArn: string) {
    this.#sns = sns;
    this.#topicArn = topicArn;
  }

  async publish(n: Notification): Promise<void> {
    await withRetry(async () => {
      try {
        await this.#sns.send(
          new PublishCommand({
            TopicArn: this.#topicArn,
            Subject: n.subject,
            Message: n.message,
            MessageAttributes: Object.fromEntries(
              Object.entries(n.attributes).map(([name, value]) => [name, attribute(value)]),
            ),
          }),
        );
      } catch (error) {
        throw classify(error, terminal, (name) => `SNS ${name} publishing to ${this.#topicArn}`);
      }
    });
  }
}
