import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';

const base = {
  AWS_REGION: 'us-east-1',
  QUEUE_URL: 'http://127.0.0.1:5000/123456789012/jobs',
  DLQ_URL: 'http://127.0.0.1:5000/123456789012/jobs-dlq',
};
const topic = 'arn:aws:sns:us-east-1:123456789012:AcmCertExport-AlarmsTopic3A2DFEBA-Ab12Cd34';

describe('the notification settings', () => {
  it('default to no topic (logged only), 14 days before expiry and 24 hours after a renewal', () => {
    expect(loadConfig(base).notifications).toEqual({ expiryDays: 14, renewalGraceHours: 24 });
  });

  it('read the topic and both thresholds', () => {
    const c = loadConfig({
      ...base,
      NOTIFY_TOPIC_ARN: ` ${topic} `,
      EXPIRY_NOTIFY_DAYS: '30',
      RENEWAL_GRACE_HOURS: '6',
    });
    expect(c.notifications).toEqual({ topicArn: topic, expiryDays: 30, renewalGraceHours: 6 });
    expect(
      loadConfig({ ...base, NOTIFY_TOPIC_ARN: 'arn:aws-cn:sns:cn-north-1:123456789012:ops' })
        .notifications.topicArn,
    ).toBe('arn:aws-cn:sns:cn-north-1:123456789012:ops');
  });

  it('treat an empty topic as unset', () => {
    expect(loadConfig({ ...base, NOTIFY_TOPIC_ARN: '' }).notifications.topicArn).toBeUndefined();
  });

  it.each([
    [{ NOTIFY_TOPIC_ARN: 'alarms' }, /NOTIFY_TOPIC_ARN must be an SNS topic ARN/],
    [
      { NOTIFY_TOPIC_ARN: 'arn:aws:sqs:us-east-1:123456789012:jobs' },
      /NOTIFY_TOPIC_ARN must be an SNS topic ARN/,
    ],
    [
      { NOTIFY_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alarms:sub-id' },
      /NOTIFY_TOPIC_ARN must be an SNS topic ARN/,
    ],
    [
      { NOTIFY_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alarms.fifo' },
      /NOTIFY_TOPIC_ARN must be a standard SNS topic/,
    ],
    [{ EXPIRY_NOTIFY_DAYS: '0' }, /EXPIRY_NOTIFY_DAYS must be an integer from 1 to 365/],
    [{ EXPIRY_NOTIFY_DAYS: '14.5' }, /EXPIRY_NOTIFY_DAYS must be an integer/],
    [{ RENEWAL_GRACE_HOURS: '0' }, /RENEWAL_GRACE_HOURS must be an integer from 1 to 720/],
    [{ RENEWAL_GRACE_HOURS: 'a day' }, /RENEWAL_GRACE_HOURS must be an integer/],
  ])('refuse %j', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });
});
