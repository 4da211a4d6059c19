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

  it.each([
    ['an issuance', aCertificateAvailableEvent({ certificateArn: arnA, action: 'ISSUANCE' })],
    ['an approaching expiration', anApproachingExpirationEvent({ certificateArn: arnA })],
  ])('ignores %s', async (_, event) => {
    const w = await withMappings(['dev']);
    expect(await w.deliver(event)).toEqual({ kind: 'ack' });
    expect(w.queue.messages).toHaveLength(0);
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
