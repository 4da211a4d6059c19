import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';

const base = {
  AWS_REGION: 'us-east-1',
  QUEUE_URL: 'http://127.0.0.1:5000/123456789012/jobs',
  DLQ_URL: 'http://127.0.0.1:5000/123456789012/jobs-dlq',
};

describe('the export quota settings', () => {
  it("default to ACM's quota, 5 per second shared by every task, and a 5 s heartbeat", () => {
    expect(loadConfig(base).acm).toEqual({
      exportQuotaPerSecond: 5,
      exportQuotaHeartbeatSeconds: 5,
    });
  });

  it('read a raised quota and another heartbeat, refusing what is out of range', () => {
    expect(
      loadConfig({
        ...base,
        ACM_EXPORT_QUOTA_PER_SECOND: '20',
        ACM_EXPORT_QUOTA_HEARTBEAT_SECONDS: '10',
      }).acm,
    ).toEqual({ exportQuotaPerSecond: 20, exportQuotaHeartbeatSeconds: 10 });
    expect(() => loadConfig({ ...base, ACM_EXPORT_QUOTA_PER_SECOND: '0' })).toThrow(
      'ACM_EXPORT_QUOTA_PER_SECOND must be an integer from 1 to 1000',
    );
    expect(() => loadConfig({ ...base, ACM_EXPORT_QUOTA_HEARTBEAT_SECONDS: '61' })).toThrow(
      'ACM_EXPORT_QUOTA_HEARTBEAT_SECONDS must be an integer from 1 to 60',
    );
  });

  it('refuse the per-process rate it replaced, naming the new setting', () => {
    expect(() => loadConfig({ ...base, ACM_EXPORT_RATE_PER_SECOND: '5' })).toThrow(
      /ACM_EXPORT_QUOTA_PER_SECOND/,
    );
  });
});
