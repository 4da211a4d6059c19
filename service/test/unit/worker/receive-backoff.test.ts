import { describe, expect, it } from 'vitest';
import { ReceiveBackoff } from '../../../src/worker/receive-backoff.ts';

describe('the receive backoff shared by a process’s consumers', () => {
  it('doubles per failed round from 1 s to 30 s, counting failures inside a pause once', () => {
    let now = 0;
    const backoff = new ReceiveBackoff({ now: () => now, random: () => 1 });
    const pauses: number[] = [];
    for (let round = 0; round < 8; round++) {
      const pause = backoff.failed();
      expect(pause).toBeDefined();
      pauses.push(pause as number);
      // Nine more consumers fail in the same round: not counted again.
      for (let i = 0; i < 9; i++) expect(backoff.failed()).toBeUndefined();
      now += pause as number;
    }
    expect(pauses).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoff.failures).toBe(8);
    expect(backoff.succeeded()).toBe(8);
    expect(backoff.failures).toBe(0);
    expect(backoff.failed()).toBe(1000);
  });

  it('adds jitter below the pause, never above', () => {
    const backoff = new ReceiveBackoff({ now: () => 0, random: () => 0 });
    expect(backoff.failed()).toBe(800);
  });

  it('makes a receive wait out the pause, and ends the wait when stopping', async () => {
    const backoff = new ReceiveBackoff({ initialMs: 60_000 });
    backoff.failed();
    const stop = new AbortController();
    const waited = backoff.beforeReceive(stop.signal);
    stop.abort();
    await expect(waited).resolves.toBeUndefined();
  });
});

/** At most this many failed rounds in a minute of outage: the log line count follows. */
describe('an outage of one minute', () => {
  it('costs at most 7 failed rounds (so at most 7 error lines)', () => {
    let now = 0;
    const backoff = new ReceiveBackoff({ now: () => now, random: () => 1 });
    let rounds = 0;
    while (now < 60_000) {
      const pause = backoff.failed();
      if (pause !== undefined) rounds++;
      now += pause ?? 1;
    }
    expect(rounds).toBeLessThanOrEqual(7);
  });
});
