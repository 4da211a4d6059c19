import { describe, expect, it } from 'vitest';
import {
  breakEvenDeploymentsPerMonth,
  costPer1000,
  dynamoUnits,
  itemBytes,
  originalCostPer1000,
} from '../../cost-model.ts';
import { percentile } from '../../stats.ts';
import { unionMs } from '../../worker-bench.ts';

const S = (s: string) => ({ S: s });

/** A deployments-like table: JobId key, an index on CertificateArn + CreatedAt. */
function tableWith(projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE', include?: string[]) {
  return {
    T: {
      keys: ['JobId'],
      indexes: [
        {
          name: 'ByCert',
          keys: ['CertificateArn', 'CreatedAt'],
          projection,
          ...(include === undefined ? {} : { include }),
        },
      ],
    },
  };
}

const big = 'x'.repeat(1500);
const record = {
  JobId: S('j1'),
  CertificateArn: S('arn'),
  CreatedAt: S('2026'),
  Data: S(big),
  Status: S('Queued'),
};

describe('cost model', () => {
  it('prices SQS, DynamoDB units (tables and indexes) and Secrets Manager calls', () => {
    const c = costPer1000({
      perDeployment: {
        'AmazonSQS.SendMessage': 1,
        'AmazonSQS.ReceiveMessage': 2,
        'AmazonSQS.DeleteMessage': 1,
        'DynamoDB_20120810.PutItem': 10,
        'secretsmanager.PutSecretValue': 1,
        'CertificateManager.ExportCertificate': 1,
      },
      dynamo: { tableWriteUnits: 30, indexWriteUnits: 8, readUnits: 4 },
      serverSecretReads: 2,
      messagesSentByOthers: 1,
    });
    // 4 SQS requests of the service and the job's SendMessage × 1000 × $0.40 / 1e6
    expect(c.sqs).toBeCloseTo(0.002, 8);
    // (30 + 8) WRU × 1000 × $0.625/1e6 + 4 RRU × 1000 × $0.125/1e6
    expect(c.dynamodbParts.indexWrites).toBeCloseTo(0.005, 8);
    expect(c.dynamodb).toBeCloseTo(0.02375 + 0.0005, 8);
    // the service's PutSecretValue and two servers' GetSecretValue: 3 × 1000 × $0.05 / 1e4
    expect(c.secretsManager).toBeCloseTo(0.015, 8);
    expect(c.requests.serverSecretReads).toBe(2);
    expect(c.total).toBeCloseTo(0.002 + 0.02425 + 0.015, 8);
  });

  it('sizes items by DynamoDB rules', () => {
    expect(itemBytes({ a: S('abc') })).toBe(4);
    expect(itemBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemBytes({ b: { BOOL: true }, z: { NULL: true } })).toBe(4);
    // a map: 3 + (name + value + 1) per entry
    expect(itemBytes({ m: { M: { k: S('vv') } } })).toBe(1 + 3 + 1 + 2 + 1);
    expect(itemBytes({ l: { L: [S('a'), S('b')] } })).toBe(1 + 3 + 2 + 2);
  });

  it('writes an ALL index with every put of an item in it, at the item’s size', () => {
    const u = dynamoUnits(
      [{ kind: 'put', table: 'T', item: record }],
      tableWith('ALL'),
      () => undefined,
    );
    // about 1.5 KB: 2 units for the table, 2 for the index
    expect(u.tableWriteUnits).toBe(2);
    expect(u.indexWriteUnits).toBe(2);
    expect(u.indexWriteUnitsByIndex).toEqual({ 'T.ByCert': 2 });
  });

  it('writes a KEYS_ONLY index at its keys’ size, and not for updates of other attributes', () => {
    const after = { ...record, Status: S('Succeeded') };
    const u = dynamoUnits(
      [
        { kind: 'put', table: 'T', item: record },
        { kind: 'update', table: 'T', key: { JobId: S('j1') }, updated: ['Status'] },
      ],
      tableWith('KEYS_ONLY'),
      () => after,
    );
    expect(u.tableWriteUnits).toBe(4);
    expect(u.indexWriteUnits).toBe(1);
  });

  it('writes an INCLUDE index when an update sets an attribute it includes', () => {
    const u = dynamoUnits(
      [{ kind: 'update', table: 'T', key: { JobId: S('j1') }, updated: ['Status'] }],
      tableWith('INCLUDE', ['Status']),
      () => record,
    );
    expect(u.indexWriteUnits).toBe(1);
  });

  it('leaves an index alone for items without its keys (a sparse index)', () => {
    const { CreatedAt: _, ...withoutIndexKey } = record;
    const u = dynamoUnits(
      [{ kind: 'put', table: 'T', item: withoutIndexKey }],
      tableWith('ALL'),
      () => undefined,
    );
    expect(u.indexWriteUnits).toBe(0);
  });

  it('counts a changed index key as a delete and a put', () => {
    const moved = { ...record, CreatedAt: S('2027') };
    const u = dynamoUnits(
      [
        { kind: 'put', table: 'T', item: record },
        { kind: 'put', table: 'T', item: moved },
      ],
      tableWith('KEYS_ONLY'),
      () => undefined,
    );
    expect(u.indexWriteUnits).toBe(1 + 2);
  });

  it('counts a BatchWriteItem’s puts one by one, and reads by their 4 KB units', () => {
    const small = { JobId: S('a') };
    const u = dynamoUnits(
      [
        { kind: 'put', table: 'S', item: small },
        { kind: 'put', table: 'S', item: { JobId: S('b') } },
        { kind: 'get', table: 'S', key: small, consistent: true },
        { kind: 'get', table: 'S', key: small, consistent: false },
        { kind: 'query', table: 'S', items: 2, consistent: true },
      ],
      { S: { keys: ['JobId'], indexes: [] } },
      () => small,
    );
    expect(u.itemWrites).toBe(2);
    expect(u.tableWriteUnits).toBe(2);
    expect(u.readUnits).toBe(1 + 0.5 + 1);
  });

  it('finds where a fixed monthly cost breaks even against a design idle for free', () => {
    // $72 a month, $0.00003 per deployment here against $0.00026 there
    expect(breakEvenDeploymentsPerMonth(72, 0.00003, 0.00026)).toBeCloseTo(72 / 0.00023, 3);
    expect(breakEvenDeploymentsPerMonth(2.61, 0.003, 0.00026)).toBeUndefined();
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
