import { describe, expect, it } from 'vitest';
import {
  aCertificateAvailableEvent,
  anApproachingExpirationEvent,
} from '../../support/builders/acm-events.ts';
import { arnA, workerWorld } from '../../support/worker-world.ts';

async function withMappings(targets: string[]) {
  const w = workerWorld();
  for (const value of targets) {
    await w.mappings.put({
      certificateArn: arnA,
      certName: 'web',
      target: { key: 'env', value },
      install: value === 'prod' ? { reloadCommand: 'systemctl reload nginx' } : {},
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    });
  }
  return w;
}

describe('renewal handler', () => {
  it('queues one deploy job per mapping of the renewed certificate, with its install options', async () => {
    const w = await withMappings(['dev', 'prod']);
    const event = aCertificateAvailableEvent({ certificateArn: arnA, action: 'RENEWAL' });
    expect(await w.deliver(event)).toEqual({ kind: 'ack' });
    expect(w.queue.messages.map((m) => [m.target.value, m.trigger, m.eventId])).toEqual([
      ['dev', 'renewal', event.id],
      ['prod', 'renewal', event.id],
    ]);
    expect(w.queue.messages[1]?.install).toEqual({ reloadCommand: 'systemctl reload nginx' });
  });

  it('gives a duplicate event the same job ids', async () => {
    const w = await withMappings(['dev']);
    const event = aCertificateAvailableEvent({ certificateArn: arnA });
    await w.deliver(event, 'a');
    await w.deliver(event, 'b');
    const ids = w.queue.messages.map((m) => m.jobId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    // ...and a different renewal event makes a different job.
    await w.deliver(aCertificateAvailableEvent({ certificateArn: arnA }), 'c');
    expect(w.queue.messages[2]?.jobId).not.toBe(ids[0]);
  });

  it('acknowledges a renewal of a certificate with no mapping', async () => {
    const w = await withMappings([]);
    expect(await w.deliver(aCertificateAvailableEvent({ certificateArn: arnA }))).toEqual({
      kind: 'ack',
    });
    expect(w.queue.messages).toHaveLength(0);
    expect(w.logLines.join('')).toContain('no mapping for this certificate');
  });

  it('ignores an issuance', async () => {
    const w = await withMappings(['dev']);
    const event = aCertificateAvailableEvent({ certificateArn: arnA, action: 'ISSUANCE' });
    expect(await w.deliver(event)).toEqual({ kind: 'ack' });
    expect(w.queue.messages).toHaveLength(0);
  });

  it('on an approaching expiration, deploys again only the mappings not holding the current serial (a lost renewal event)', async () => {
    const w = await withMappings(['dev', 'prod', 'qa']);
    const current = (await w.certificates.describe(arnA)).serial as string;
    const key = (value: string) => ({
      target: { key: 'env', value },
      certificateArn: arnA,
      certName: 'web',
    });
    // dev holds the current serial (as the install summary writes it: upper case, no colons);
    // prod an older one; qa never got one.
    for (const [value, serial] of [
      ['dev', current.replaceAll(':', '').toUpperCase()],
      ['prod', '0a:0b:0c'],
    ] as const) {
      const m = await w.mappings.get(key(value));
      await w.mappings.put({ ...(m as NonNullable<typeof m>), serial });
    }
    const event = anApproachingExpirationEvent({ certificateArn: arnA });
    expect(await w.deliver(event)).toEqual({ kind: 'ack' });
    expect(w.queue.messages.map((m) => [m.target.value, m.trigger, m.eventId])).toEqual([
      ['prod', 'renewal', event.id],
      ['qa', 'renewal', event.id],
    ]);
    expect(w.queue.messages[0]?.install).toEqual({ reloadCommand: 'systemctl reload nginx' });
  });

  it('on an approaching expiration, does nothing when every mapping holds the current serial', async () => {
    const w = await withMappings(['dev']);
    const current = (await w.certificates.describe(arnA)).serial as string;
    const m = await w.mappings.get({
      target: { key: 'env', value: 'dev' },
      certificateArn: arnA,
      certName: 'web',
    });
    await w.mappings.put({ ...(m as NonNullable<typeof m>), serial: current });
    expect(await w.deliver(anApproachingExpirationEvent({ certificateArn: arnA }))).toEqual({
      kind: 'ack',
    });
    expect(w.queue.messages).toHaveLength(0);
    expect(w.logLines.join('')).toContain('ACM has not renewed it yet');
  });

  it('retries a failed fan-out and dead-letters it after maxFailures receives', async () => {
    const w = await withMappings(['dev']);
    w.queue.send = async () => {
      throw new Error('sqs down');
    };
    const event = aCertificateAvailableEvent({ certificateArn: arnA });
    expect(await w.deliver(event, 'm', 1)).toMatchObject({ kind: 'later' });
    expect(await w.deliver(event, 'm', 3)).toMatchObject({
      kind: 'dead-letter',
      reason: expect.stringMatching(/fan-out failed 3 times/),
    });
  });
});
