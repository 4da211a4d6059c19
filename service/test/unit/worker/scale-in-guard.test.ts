import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import { createScaleInGuard } from '../../../src/worker/scale-in-guard.ts';
import { ManualClock } from '../../support/fakes/aws-fakes.ts';
import { RecordingTaskProtection } from '../../support/fakes/task-protection.ts';

/** Timers the test fires by hand. */
class ManualTimers {
  readonly pending: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  readonly schedule = (ms: number, fn: () => void) => {
    const timer = { ms, fn, cancelled: false };
    this.pending.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  get active() {
    return this.pending.filter((t) => !t.cancelled);
  }
  fireAll() {
    for (const t of this.pending.splice(0)) if (!t.cancelled) t.fn();
  }
}

function aGuard() {
  const clock = new ManualClock();
  const protection = new RecordingTaskProtection(clock);
  const timers = new ManualTimers();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const guard = createScaleInGuard({
    protection,
    clock,
    logger,
    minutes: 10,
    releaseAfterIdleMs: 15_000,
    retryAfterFailureMs: 60_000,
    schedule: timers.schedule,
  });
  return { guard, protection, timers, clock, lines };
}

/** Lets the promise jobs queued so far run (the guard's requests are chained promises). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the scale-in guard', () => {
  it('lets the first message start only once ECS has recorded the protection', async () => {
    const { guard, protection } = aGuard();
    protection.hold();
    let started = false;
    const entered = guard.enter().then(() => {
      started = true;
    });
    await settle();
    expect(protection.requests).toEqual(['protect']);
    expect(started).toBe(false);
    protection.answer();
    await entered;
    expect(started).toBe(true);
    expect(protection.protected_).toBe(true);
  });

  it('asks once for messages arriving together and for messages while it holds protection', async () => {
    const { guard, protection } = aGuard();
    protection.hold();
    const together = [guard.enter(), guard.enter(), guard.enter()];
    await settle();
    protection.answer();
    await Promise.all(together);
    guard.leave();
    await guard.enter();
    await guard.enter();
    expect(protection.requests).toEqual(['protect']);
  });

  it('releases once it has been idle for the delay, not at every message', async () => {
    const { guard, protection, timers } = aGuard();
    await guard.enter();
    await guard.enter();
    guard.leave();
    expect(timers.active).toHaveLength(0); // one message still in hand
    guard.leave();
    expect(timers.active.map((t) => t.ms)).toEqual([15_000]);
    expect(protection.requests).toEqual(['protect']);
    timers.fireAll();
    await settle();
    expect(protection.requests).toEqual(['protect', 'release']);
    expect(protection.protected_).toBe(false);
  });

  it('sends nothing for a message that arrives while the release waits', async () => {
    const { guard, protection, timers } = aGuard();
    await guard.enter();
    guard.leave();
    expect(timers.active).toHaveLength(1);
    await guard.enter();
    expect(timers.active).toHaveLength(0);
    guard.leave();
    timers.fireAll();
    await settle();
    expect(protection.requests).toEqual(['protect', 'release']);
  });

  it('renews the protection once half of it has passed, while busy', async () => {
    const { guard, protection, clock } = aGuard();
    await guard.enter();
    clock.advance(4 * 60_000 + 59_000);
    await guard.enter();
    expect(protection.requests).toEqual(['protect']);
    clock.advance(2000); // past 5 of the 10 minutes
    await guard.enter();
    expect(protection.requests).toEqual(['protect', 'protect']);
  });

  it('protects again after a release, in order: the task ends protected', async () => {
    const { guard, protection, timers } = aGuard();
    await guard.enter();
    guard.leave();
    protection.hold();
    timers.fireAll(); // the release is on its way
    await settle();
    const next = guard.enter();
    await settle();
    expect(protection.waiting).toBe(1); // the protection waits for the release to finish
    protection.answer();
    await settle();
    protection.answer();
    await next;
    expect(protection.requests).toEqual(['protect', 'release', 'protect']);
    expect(protection.protected_).toBe(true);
  });

  it('lets messages run when protecting fails, and asks again only after a pause', async () => {
    const { guard, protection, clock, lines } = aGuard();
    protection.failNext();
    await expect(guard.enter()).resolves.toBeUndefined();
    expect(lines.map((l) => l.msg)).toContain(
      'task scale-in protection failed: jobs run unprotected (a job cut short resumes from its record)',
    );
    await guard.enter();
    expect(protection.requests).toEqual(['protect']);
    clock.advance(60_000);
    await guard.enter();
    expect(protection.requests).toEqual(['protect', 'protect']);
    expect(protection.protected_).toBe(true);
  });

  it('logs a failed release and lets the protection expire by itself', async () => {
    const { guard, protection, timers, lines } = aGuard();
    await guard.enter();
    guard.leave();
    protection.failNext();
    timers.fireAll();
    await settle();
    expect(lines.map((l) => l.msg)).toContain(
      'releasing task scale-in protection failed: it expires by itself',
    );
  });

  it('schedules no release once closed (the task is stopping)', async () => {
    const { guard, protection, timers } = aGuard();
    await guard.enter();
    guard.close();
    guard.leave();
    timers.fireAll();
    await settle();
    expect(protection.requests).toEqual(['protect']);
  });
});
