import { describe, expect, it } from 'vitest';
import type { Mapping } from '../../../src/domain/mapping.ts';
import { daysToExpiry, expiryCheckPageSize } from '../../../src/worker/expiry-check-handler.ts';
import {
  installedDaysToExpiryMetric,
  installedMinDaysToExpiryMetric,
} from '../../../src/worker/metrics.ts';
import { arnA, workerWorld } from '../../support/worker-world.ts';

type Line = Record<string, unknown> & { level: string; msg: string };

const day = 86_400_000;
const check = { type: 'expiry-check', version: 1, scheduledTime: '2026-11-27T06:00:00Z' };

function aMapping(value: string, notAfter?: string): Mapping {
  return {
    certificateArn: arnA,
    certName: 'web',
    target: { key: 'env', value },
    install: {},
    ...(notAfter === undefined ? {} : { notAfter, serial: '0a:1b', lastOutcome: 'Succeeded' }),
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  };
}

/** A world whose clock reads `now`, with these mappings. */
async function withMappings(mappings: Mapping[]) {
  const w = workerWorld();
  for (const m of mappings) await w.mappings.put(m);
  return w;
}

const inDays = (w: ReturnType<typeof workerWorld>, days: number) =>
  new Date(w.clock.now().getTime() + days * day + 3_600_000).toISOString();

function lines(w: { logLines: string[] }): Line[] {
  return w.logLines.map((l) => JSON.parse(l) as Line);
}

/** The EMF lines of one metric: the metric's value on each, checked to be declared as EMF. */
function metric(w: { logLines: string[] }, name: string): number[] {
  return lines(w)
    .filter((l) => name in l)
    .map((l) => {
      expect(l._aws).toMatchObject({
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          { Namespace: 'AcmCertExport', Dimensions: [[]], Metrics: [{ Name: name, Unit: 'None' }] },
        ],
      });
      return l[name] as number;
    });
}

describe('days to expiry', () => {
  const now = new Date('2026-11-27T06:00:00Z');
  it.each([
    ['14 days and an hour', '2026-12-11T07:00:00Z', 14],
    ['13 days and 23 hours: fewer than 14', '2026-12-11T05:00:00Z', 13],
    ['an hour ago', '2026-11-27T05:00:00Z', -1],
    ['three days ago', '2026-11-24T06:00:00Z', -3],
  ])('counts whole days: %s', (_what, notAfter, days) => {
    expect(daysToExpiry(notAfter, now)).toBe(days);
  });

  it('is undefined without an installed copy or with a date it cannot read', () => {
    expect(daysToExpiry(undefined, now)).toBeUndefined();
    expect(daysToExpiry('soon', now)).toBeUndefined();
  });
});

describe('the expiry check', () => {
  it('writes each installed copy’s days to expiry, then the minimum, as EMF metrics', async () => {
    const w = workerWorld();
    for (const [value, days] of [
      ['dev', 40],
      ['prod', 10],
      ['old', -2],
    ] as const) {
      await w.mappings.put(aMapping(value, inDays(w, days)));
    }
    await w.mappings.put(aMapping('new')); // never installed: no copy to age
    expect(await w.deliver(check)).toEqual({ kind: 'ack' });

    expect(metric(w, installedDaysToExpiryMetric).sort((a, b) => a - b)).toEqual([-2, 10, 40]);
    expect(metric(w, installedMinDaysToExpiryMetric)).toEqual([-2]);
    const perMapping = lines(w).filter((l) => installedDaysToExpiryMetric in l);
    expect(perMapping.find((l) => l.target === 'env=dev')).toMatchObject({ level: 'info' });
    // Fewer than EXPIRY_NOTIFY_DAYS (14): notified, so a warning.
    expect(perMapping.find((l) => l.target === 'env=prod')).toMatchObject({
      level: 'warn',
      certificateArn: arnA,
      certName: 'web',
      daysToExpiry: 10,
      serial: '0a:1b',
      scheduledTime: check.scheduledTime,
    });
    expect(perMapping.find((l) => l.target === 'env=old')).toMatchObject({ level: 'warn' });
    expect(lines(w).find((l) => installedMinDaysToExpiryMetric in l)).toMatchObject({
      mappings: 4,
      withoutInstalledCopy: 1,
      minDaysToExpiry: -2,
      soonest: { target: 'env=old', certName: 'web' },
    });
    expect(lines(w).some((l) => l.target === 'env=new' && /no installed copy/.test(l.msg))).toBe(
      true,
    );
  });

  it('walks every page of the mappings', async () => {
    const count = expiryCheckPageSize * 2 + 7;
    const w = workerWorld();
    for (let i = 0; i < count; i++) await w.mappings.put(aMapping(`t${i}`, inDays(w, 30 + i)));
    await w.deliver(check);
    expect(metric(w, installedDaysToExpiryMetric)).toHaveLength(count);
    expect(metric(w, installedMinDaysToExpiryMetric)).toEqual([30]);
  });

  it('writes no minimum when no mapping has an installed copy (the alarm keeps its state)', async () => {
    const w = await withMappings([aMapping('new')]);
    expect(await w.deliver(check)).toEqual({ kind: 'ack' });
    expect(metric(w, installedMinDaysToExpiryMetric)).toEqual([]);
    expect(lines(w).some((l) => /no installed copy to check/.test(l.msg))).toBe(true);
  });

  it('retries a failed walk with backoff, then moves it to the DLQ after maxFailures receives', async () => {
    const w = await withMappings([aMapping('dev', '2027-01-01T00:00:00Z')]);
    w.mappings.list = async () => {
      throw new Error('dynamodb unavailable');
    };
    expect(await w.deliver(check, 'm', 1)).toEqual({
      kind: 'later',
      delaySeconds: 2,
      why: 'expiry check failed',
    });
    expect(await w.deliver(check, 'm', 3)).toEqual({
      kind: 'dead-letter',
      reason: 'expiry check failed 3 times: dynamodb unavailable',
    });
    expect(metric(w, installedMinDaysToExpiryMetric)).toEqual([]);
  });

  it('queues nothing and touches no mapping', async () => {
    const w = await withMappings([aMapping('dev', '2027-01-01T00:00:00Z')]);
    const before = JSON.stringify(await w.mappings.list(10));
    await w.deliver(check);
    expect(w.queue.messages).toHaveLength(0);
    expect(JSON.stringify(await w.mappings.list(10))).toBe(before);
  });
});
