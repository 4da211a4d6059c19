import { setTimeout as sleep } from 'node:timers/promises';

/** Paces calls to a fixed rate per process (a token bucket of one second's worth). */
export interface RateLimiter {
  take(): Promise<void>;
}

/**
 * Spaces calls at least 1/ratePerSecond apart, in arrival order. Several containers share the
 * account quota; the SDK's adaptive retry absorbs the remaining throttling.
 */
export function intervalRateLimiter(
  ratePerSecond: number,
  now: () => number = Date.now,
): RateLimiter {
  const spacingMs = 1000 / ratePerSecond;
  let next = 0;
  return {
    async take() {
      const t = now();
      const slot = Math.max(t, next);
      next = slot + spacingMs;
      if (slot > t) await sleep(slot - t);
    },
  };
}

export const unlimited: RateLimiter = { take: async () => {} };
