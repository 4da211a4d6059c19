import { describe, expect, it } from 'vitest';
import { costPer1000, originalCostPer1000 } from '../../cost-model.ts';
import { percentile } from '../../stats.ts';
import { unionMs } from '../../worker-bench.ts';

describe('cost model', () => {
  it('prices SQS, DynamoDB units and Secrets Manager calls per 1,000 deployments', () => {
    const c = costPer1000({
      perDeployment: {
        'AmazonSQS.SendMessage': 1,
        'AmazonSQS.ReceiveMessage': 2,
        'AmazonSQS.DeleteMessage': 1,
        'DynamoDB_20120810.PutItem': 10,
        'DynamoDB_20120810.GetItem': 4,
        'secretsmanager.PutSecretValue': 1,
        'CertificateManager.ExportCertificate': 1,
      },
      recordWriteKb: 2.5,
      itemReadKb: 2.5,
    });
    // 4 SQS requests × 1000 × $0.40 / 1e6
    expect(c.sqs).toBeCloseTo(0.0016, 8);
    // 10 writes × 3 WRU × 1000 × $0.625/1e6 + 4 reads × 1 RRU × 1000 × $0.125/1e6
    expect(c.dynamodb).toBeCloseTo(0.01875 + 0.0005, 8);
    expect(c.secretsManager).toBeCloseTo(0.005, 8);
    expect(c.total).toBeCloseTo(0.0016 + 0.01925 + 0.005, 8);
  });

  it('prices a BatchWriteItem (the per-server items) as a write', () => {
    const base = { recordWriteKb: 1, itemReadKb: 1 };
    const without = costPer1000({ ...base, perDeployment: { 'DynamoDB_20120810.PutItem': 1 } });
    const withBatch = costPer1000({
      ...base,
      perDeployment: {
        'DynamoDB_20120810.PutItem': 1,
        'DynamoDB_20120810.BatchWriteItem': 2,
      },
    });
    expect(withBatch.requests.dynamoWrites).toBe(3);
    expect(withBatch.dynamodb).toBeCloseTo(without.dynamodb * 3, 10);
  });

  it('prices the original design from its transitions and invocations', () => {
    const o = originalCostPer1000({
      commandSeconds: 20,
      lambdaMemoryGb: 0.128,
      lambdaSeconds: 0.5,
    });
    expect(o.transitions).toBe(13);
    expect(o.invocations).toBe(5);
    expect(o.stepFunctions).toBeCloseTo(0.325, 8);
  });

  it('counts the time some server ran the script once, in parallel or one after another', () => {
    expect(unionMs([])).toBe(0);
    expect(
      unionMs([
        [0, 1000],
        [100, 900],
      ]),
    ).toBe(1000);
    expect(
      unionMs([
        [0, 1000],
        [1200, 2000],
      ]),
    ).toBe(1800);
    expect(
      unionMs([
        [500, 1500],
        [0, 1000],
        [1400, 1600],
      ]),
    ).toBe(1600);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(() => percentile([], 50)).toThrow();
  });
});
