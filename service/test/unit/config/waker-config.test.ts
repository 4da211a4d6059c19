import { describe, expect, it } from 'vitest';
import { loadWakerConfig } from '../../../src/config/waker-config.ts';

const base = {
  AWS_REGION: 'us-east-1',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/acm-cert-export-jobs',
  WORKER_CLUSTER: 'AcmCertExport-ServiceCluster1A2B3C4D-abc',
  WORKER_SERVICE:
    'arn:aws:ecs:us-east-1:123456789012:service/AcmCertExport-ServiceCluster1A2B3C4D-abc/AcmCertExport-Service-xyz',
};

describe('the waker config', () => {
  it('reads what the stack sets, info logs by default', () => {
    const c = loadWakerConfig(base);
    expect(c).toMatchObject({
      queueUrl: base.QUEUE_URL,
      cluster: base.WORKER_CLUSTER,
      service: base.WORKER_SERVICE,
      logLevel: 'info',
    });
    expect(c.aws.region).toBe('us-east-1');
    expect(
      loadWakerConfig({ ...base, AWS_ENDPOINT_URL_ECS: 'http://127.0.0.1:5000' }).aws.endpoints.ecs,
    ).toBe('http://127.0.0.1:5000');
  });

  it.each([
    [{ QUEUE_URL: undefined }, /QUEUE_URL is required/],
    [{ QUEUE_URL: 'ftp://x/y' }, /QUEUE_URL must be an http\(s\) URL, got "ftp:\/\/x\/y"/],
    [{ WORKER_CLUSTER: ' ' }, /WORKER_CLUSTER is required/],
    [
      { WORKER_SERVICE: 'my service' },
      /WORKER_SERVICE must be an ECS name or ARN, got "my service"/,
    ],
    [
      { LOG_LEVEL: 'loud' },
      /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/,
    ],
    [{ AWS_REGION: undefined }, /AWS_REGION is required/],
  ])('refuses %o naming the variable', (change, message) => {
    expect(() => loadWakerConfig({ ...base, ...change })).toThrow(message);
  });
});
