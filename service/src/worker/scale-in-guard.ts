import type { Logger } from 'pino';
import type { Clock } from '../ports/clock.ts';
import type { TaskProtection } from '../ports/task-protection.ts';

/**
 * Keeps the task protected from scale-in while the worker holds messages: one request when it
 * gets busy, one when it has been idle a while, and a renewal once half of a protection has
 * passed; never one per message while protection is held.
 */
export interface ScaleInGuard {
  /** A message is starting. Resolves once the task is protected, or protecting it failed (logged). */
  enter(): Promise<void>;
  /** A message is done (however it ended). */
  leave(): void;
  /** The worker is stopping: no release is scheduled any more. */
  close(): void;
}

export interface ScaleInGuardOptions {
  readonly protection: TaskProtection;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long one protection lasts (ECS accepts 1 to 2880 minutes). */
  readonly minutes: number;
  /** Idle this long before releasing: a message arriving meanwhile needs no request at all. */
  readonly releaseAfterIdleMs: number;
  /** After a failed protection, messages start unprotected this long before the next attempt. */
  readonly retryAfterFailureMs: number;
  /** Runs `fn` after `ms`, returns a cancel; injected so tests need no real time. */
  readonly schedule?: (ms: number, fn: () => void) => () => void;
}

function realSchedule(ms: number, fn: () => void): () => void {
  const timer = setTimeout(fn, ms);
  // A pending release must not keep a stopping process alive: the task goes away anyway.
  timer.unref();
  return () => clearTimeout(timer);
}

export function createScaleInGuard(options: ScaleInGuardOptions): ScaleInGuard {
  const { protection, clock, logger, minutes } = options;
  const schedule = options.schedule ?? realSchedule;
  let busy = 0;
  /** A protection was asked for since the last release: ECS may hold one. */
  let requested = false;
  /** While protected for sure: when to renew (half of the protection). */
  let renewAt: number | undefined;
  let retryAt = 0;
  let protecting: Promise<void> | undefined;
  let cancelRelease: (() => void) | undefined;
  let closed = false;
  // One request at a time, in order: a release and the protection asked right after it must
  // reach ECS in that order, or the task would end up unprotected while busy.
  let chain: Promise<void> = Promise.resolve();
  const serial = (step: () => Promise<void>): Promise<void> => {
    const next = chain.then(step);
    chain = next.catch(() => undefined);
    return next;
  };

  async function protect(): Promise<void> {
    requested = true;
    const askedAt = clock.now().getTime();
    try {
      const { expiresAt } = await protection.protect(minutes);
      const expiry = expiresAt?.getTime() ?? askedAt + minutes * 60_000;
      renewAt = askedAt + Math.max(0, expiry - askedAt) / 2;
      logger.info({ expiresAt: new Date(expiry).toISOString() }, 'task protected from scale-in');
    } catch (error) {
      renewAt = undefined;
      retryAt = clock.now().getTime() + options.retryAfterFailureMs;
      logger.warn(
        { err: error, retryInMs: options.retryAfterFailureMs },
        'task scale-in protection failed: jobs run unprotected (a job cut short resumes from its record)',
      );
    }
  }

  async function release(): Promise<void> {
    if (busy > 0 || !requested) return;
    requested = false;
    renewAt = undefined;
    try {
      await protection.release();
      logger.info('task scale-in protection released');
    } catch (error) {
      logger.warn(
        { err: error, expiresWithinMinutes: minutes },
        'releasing task scale-in protection failed: it expires by itself',
      );
    }
  }

  return {
    enter() {
      busy++;
      cancelRelease?.();
      cancelRelease = undefined;
      const now = clock.now().getTime();
      if (renewAt !== undefined && now < renewAt) return Promise.resolve();
      if (protecting !== undefined) return protecting;
      if (now < retryAt) return Promise.resolve();
      const started = serial(protect).finally(() => {
        protecting = undefined;
      });
      protecting = started;
      return started;
    },
    leave() {
      busy = Math.max(0, busy - 1);
      if (busy > 0 || !requested || closed) return;
      cancelRelease?.();
      cancelRelease = schedule(options.releaseAfterIdleMs, () => {
        cancelRelease = undefined;
        void serial(release);
      });
    },
    close() {
      closed = true;
      cancelRelease?.();
      cancelRelease = undefined;
    },
  };
}
