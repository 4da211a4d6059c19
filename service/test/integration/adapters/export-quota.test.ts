import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsProxy, startAwsProxy } from '../../../../local/aws-proxy/aws-proxy.ts';
import { provision } from '../../../../local/provision.ts';
import { AcmCertificateAuthority } from '../../../src/adapters/acm-certificate-authority.ts';
import {
  DynamoDbExportQuotaLeases,
  exportQuotaKey,
} from '../../../src/adapters/dynamodb-export-quota-leases.ts';
import { SharedExportQuota } from '../../../src/adapters/shared-export-quota.ts';
import { type AwsClients, createAwsClients } from '../../../src/aws/clients.ts';
import { SecretValue } from '../../../src/domain/secret-value.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { testAwsConfig, testClients } from '../../support/aws.ts';

const c = testClients();
const table = 'CertDeployments';
let worker: AwsClients;

beforeAll(async () => {
  await provision({ dynamodb: c.dynamodbRaw, sqs: c.sqs, eventbridge: c.eventbridge, ssm: c.ssm });
  // The worker's own clients: the bed evaluates each request against the worker's task role.
  worker = createAwsClients(c.config, 'acm-cert-export-worker');
});

afterAll(() => {
  worker.destroy();
});

describe('the export quota claims in the deployments table', () => {
  it('one UpdateItem claims and answers every claim; release removes only its own', async () => {
    const leases = new DynamoDbExportQuotaLeases(worker.dynamodb, table, 'us-east-1');
    const a = { since: 1_000, expiresAt: 16_000 };
    const b = { since: 2_000, expiresAt: 17_000 };
    expect(await leases.claim({ taskId: 'a', claim: a, forget: new Map() })).toEqual(
      new Map([['a', a]]),
    );
    expect(await leases.claim({ taskId: 'b', claim: b, forget: new Map() })).toEqual(
      new Map([
        ['a', a],
        ['b', b],
      ]),
    );
    await leases.release('a');
    const a2 = { since: 1_000, expiresAt: 21_000 };
    // b's view: a gone. Another region's quota is another item.
    const elsewhere = new DynamoDbExportQuotaLeases(worker.dynamodb, table, 'eu-west-1');
    expect(await elsewhere.claim({ taskId: 'b', claim: b, forget: new Map() })).toEqual(
      new Map([['b', b]]),
    );
    expect(await leases.claim({ taskId: 'a', claim: a2, forget: new Map() })).toEqual(
      new Map([
        ['a', a2],
        ['b', b],
      ]),
    );
    const item = await c.dynamodb.send(
      new GetCommand({ TableName: table, Key: { JobId: exportQuotaKey('us-east-1') } }),
    );
    // No deployment record attributes (no Data, no CertificateArn: outside the index); the
    // table's TTL removes the item a day after the last claim.
    expect(Object.keys(item.Item ?? {}).sort()).toEqual(
      ['Claim a', 'Claim b', 'ExpiresAt', 'JobId'].sort(),
    );
    expect(item.Item?.ExpiresAt).toBe(21 + 86_400);
  });

  it('removes claims long expired in the same request, unless renewed since they were read', async () => {
    const leases = new DynamoDbExportQuotaLeases(worker.dynamodb, table, 'ap-south-1');
    const dead = { since: 0, expiresAt: 15_000 };
    const back = { since: 0, expiresAt: 15_000 };
    await leases.claim({ taskId: 'dead', claim: dead, forget: new Map() });
    await leases.claim({ taskId: 'back', claim: back, forget: new Map() });
    const self = { since: 100_000, expiresAt: 115_000 };
    expect(
      await leases.claim({ taskId: 'self', claim: self, forget: new Map([['dead', dead]]) }),
    ).toEqual(
      new Map([
        ['back', back],
        ['self', self],
      ]),
    );
    // 'back' renews between self's read and self's next request: its claim stays.
    const renewed = { since: 101_000, expiresAt: 116_000 };
    await leases.claim({ taskId: 'back', claim: renewed, forget: new Map() });
    expect(
      await leases.claim({ taskId: 'self', claim: self, forget: new Map([['back', back]]) }),
    ).toEqual(
      new Map([
        ['back', renewed],
        ['self', self],
      ]),
    );
  });

  it('two tasks share the quota through the real item: the second counts once the first has read it', async () => {
    const quota = (taskId: string) =>
      new SharedExportQuota({
        leases: new DynamoDbExportQuotaLeases(worker.dynamodb, table, 'sa-east-1'),
        taskId,
        quotaPerSecond: 5,
        heartbeatMs: 1000,
        clock: systemClock,
        sleep: (ms, background) => sleep(ms, undefined, { ref: !background }),
      });
    const first = quota('first');
    const second = quota('second');
    let running = true;
    const busy = async (q: SharedExportQuota) => {
      while (running) await q.take();
    };
    await first.take();
    expect(first.snapshot()).toMatchObject({ claimed: true, counting: 1, ratePerSecond: 5 });
    const firstBusy = busy(first);
    try {
      await second.take();
      // It waited until its claim counts (the first had claimed before it: it saw that claim).
      expect(second.snapshot()).toMatchObject({ claimed: true, counting: 2, ratePerSecond: 2.5 });
      // The first, renewing every second, has read the second's claim and counts it too.
      for (let i = 0; i < 100 && first.snapshot().counting !== 2; i++) await sleep(100);
      expect(first.snapshot()).toMatchObject({ counting: 2, ratePerSecond: 2.5 });
    } finally {
      running = false;
      await firstBusy;
    }
  });
});

describe('ExportCertificate pacing', () => {
  let proxy: AwsProxy;
  let arn: string;

  beforeAll(async () => {
    const { CertificateArn } = await c.acm.send(
      new RequestCertificateCommand({
        DomainName: 'quota.example.com',
        ValidationMethod: 'DNS',
        Options: { Export: 'ENABLED' },
      }),
    );
    arn = CertificateArn ?? '';
    for (let i = 0; i < 50; i++) {
      const { Certificate } = await c.acm.send(
        new DescribeCertificateCommand({ CertificateArn: arn }),
      );
      if (Certificate?.Status === 'ISSUED') break;
      await sleep(100);
    }
    proxy = await startAwsProxy({
      target: c.config.endpoints.acm ?? '',
      rates: [{ operation: 'CertificateManager.ExportCertificate', perSecond: 1 }],
    });
  });

  afterAll(async () => {
    await proxy.stop();
  });

  it('every attempt, the SDK retries included, takes a slot; each throttled one is reported', async () => {
    const throughProxy = createAwsClients(
      testAwsConfig({ AWS_ENDPOINT_URL: proxy.endpoint }),
      'acm-cert-export-worker',
    );
    const limiter = {
      takes: 0,
      throttles: 0,
      async take() {
        this.takes += 1;
      },
      throttled() {
        this.throttles += 1;
      },
    };
    const { acmIn } = await throughProxy.jobClients();
    const acm = new AcmCertificateAuthority(
      { client: (region) => acmIn(region), exportLimiter: () => limiter },
      'us-east-1',
    );
    try {
      const exports = await Promise.all(
        [1, 2, 3].map(() => acm.export(arn, new SecretValue('a-passphrase-of-some-length'))),
      );
      expect(exports.every((e) => e.certificate.includes('BEGIN CERTIFICATE'))).toBe(true);
    } finally {
      throughProxy.destroy();
    }
    const throttled = proxy.throttled.get('CertificateManager.ExportCertificate') ?? 0;
    const passed = proxy.counts.get('CertificateManager.ExportCertificate') ?? 0;
    expect(passed).toBe(3);
    expect(throttled).toBeGreaterThan(0);
    expect(limiter.throttles).toBe(throttled);
    expect(limiter.takes).toBe(passed + throttled);
  });
});
