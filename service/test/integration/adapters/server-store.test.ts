import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../../../../local/provision.ts';
import { DynamoDbServerStore, jobOwner } from '../../../src/adapters/dynamodb-server-store.ts';
import type { ServerResult } from '../../../src/domain/deployment.ts';
import { TerminalError } from '../../../src/domain/errors.ts';
import { afterJob } from '../../../src/domain/installed-server.ts';
import { testClients } from '../../support/aws.ts';

const c = testClients();
const servers = new DynamoDbServerStore(c.dynamodb, 'CertDeploymentServers');
const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/99999999-2222-3333-4444-555555555555';
const key = { target: { key: 'env', value: 'fleet' }, certificateArn: arn, certName: 'web' };
// Thousands of items through moto are CPU work: on a loaded 2-core machine, beside another test
// file, these take several times their unloaded seconds. A time limit, not a speed assertion.
const bigFleetTimeoutMs = 180_000;
const ids = (n: number, prefix = 'i-') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(17, '0')}`);

function result(instanceId: string, status: string, serial: string | null): ServerResult {
  return {
    instanceId,
    status,
    statusDetails: status,
    ...(serial === null
      ? {}
      : {
          summary: {
            outcome: status === 'Success' ? 'installed' : 'reload-failed-rolled-back',
            serial,
            notBefore: null,
            notAfter: '2027-06-01T00:00:00.000Z',
            sha256: null,
            files: [],
            reloaded: status === 'Success',
          },
        }),
    updatedAt: '2026-11-30T00:00:00.000Z',
  };
}

beforeAll(async () => {
  await provision({ dynamodb: c.dynamodbRaw, sqs: c.sqs, eventbridge: c.eventbridge, ssm: c.ssm });
});

describe('the per-server store on DynamoDB', () => {
  it('records a job’s end, its results and what each server holds, in one batch', async () => {
    const one = { ...key, certName: 'one' };
    const results = [result('i-0000000000000end1', 'Success', '0b')];
    const at = new Date('2026-11-30T00:00:00Z');
    await servers.recordJobEnd(
      'job-end-0001',
      results,
      new Date('2027-03-01T00:00:00Z'),
      one,
      afterJob(new Map(), results, 'job-end-0001', at),
    );
    expect((await servers.listJobResults('job-end-0001', 10)).items).toEqual(results);
    expect(await servers.installed(one)).toEqual([
      expect.objectContaining({
        instanceId: 'i-0000000000000end1',
        serial: '0b',
        lastJobId: 'job-end-0001',
      }),
    ]);
    const job = await c.dynamodb.send(
      new GetCommand({
        TableName: 'CertDeploymentServers',
        Key: { Owner: jobOwner('job-end-0001'), InstanceId: 'i-0000000000000end1' },
      }),
    );
    expect(job.Item?.ExpiresAt).toBe(Math.floor(Date.parse('2027-03-01T00:00:00Z') / 1000));
  });

  it(
    'records a job to 1,100 servers as one item each (BatchWriteItem by 25) and pages them back',
    async () => {
      const all = ids(1100);
      const expiresAt = new Date('2027-03-01T00:00:00Z');
      await servers.recordJobResults(
        'job-fleet-0001',
        all.map((id) => result(id, 'Success', '0a')),
        expiresAt,
      );
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await servers.listJobResults('job-fleet-0001', 400, cursor);
        seen.push(...page.items.map((s) => s.instanceId));
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined);
      expect(seen).toEqual(all);
      expect(pages).toBe(3);
      // Each item is small and carries the TTL of the record it belongs to.
      const item = await c.dynamodb.send(
        new GetCommand({
          TableName: 'CertDeploymentServers',
          Key: { Owner: jobOwner('job-fleet-0001'), InstanceId: all[0] },
        }),
      );
      expect(item.Item?.ExpiresAt).toBe(expiresAt.getTime() / 1000);
      expect(JSON.stringify(item.Item).length).toBeLessThan(1024);
      // A second write of the same results (a finish retried after a crash) changes nothing.
      await servers.recordJobResults(
        'job-fleet-0001',
        all.slice(0, 30).map((id) => result(id, 'Success', '0a')),
        expiresAt,
      );
      expect((await servers.listJobResults('job-fleet-0001', 1000)).items).toHaveLength(1000);
    },
    bigFleetTimeoutMs,
  );

  it('keeps what each server of a mapping holds: a failure keeps the serial it had', async () => {
    const [a, b, m] = ['i-0aaaaaaaaaaaaaaa1', 'i-0bbbbbbbbbbbbbbb2', 'mi-0ccccccccccccccc3'];
    const first = afterJob(
      new Map(),
      [result(a as string, 'Success', '01'), result(b as string, 'Success', '01')],
      'job-1',
      new Date('2026-11-30T00:00:00Z'),
    );
    await servers.recordInstalled(key, first);
    const before = new Map((await servers.installed(key)).map((s) => [s.instanceId, s]));
    await servers.recordInstalled(
      key,
      afterJob(
        before,
        [
          result(a as string, 'Success', '02'),
          result(b as string, 'Failed', '02'),
          result(m as string, 'Success', '02'),
        ],
        'job-2',
        new Date('2026-12-01T00:00:00Z'),
      ),
    );
    const now = await servers.installed(key);
    expect(now.map((s) => [s.instanceId, s.serial, s.lastStatus, s.lastJobId])).toEqual([
      [a, '02', 'Success', 'job-2'],
      [b, '01', 'Failed', 'job-2'],
      [m, '02', 'Success', 'job-2'],
    ]);
    await servers.forgetMapping(key);
    expect(await servers.installed(key)).toEqual([]);
  });

  it(
    'walks every page of a mapping with thousands of servers, and forgets them all',
    async () => {
      const many = ids(3000, 'mi-');
      const big = { ...key, certName: 'big' };
      await servers.recordInstalled(
        big,
        many.map((instanceId) => ({
          instanceId,
          serial: '0b',
          lastStatus: 'Success',
          lastJobId: 'job-big',
          updatedAt: '2026-11-30T00:00:00.000Z',
        })),
      );
      expect((await servers.installed(big)).map((s) => s.instanceId)).toEqual(many);
      // Another mapping of the same tag is another partition.
      expect(await servers.installed({ ...key, certName: 'other' })).toEqual([]);
      await servers.forgetMapping(big);
      expect(await servers.installed(big)).toEqual([]);
    },
    bigFleetTimeoutMs,
  );

  it('refuses a cursor it did not return', async () => {
    await expect(servers.listJobResults('job-fleet-0001', 10, 'bm90LWEta2V5')).rejects.toThrow(
      TerminalError,
    );
  });
});
