import type { QuotaClaims } from '../ports/export-quota-leases.ts';

/**
 * One task's share of an account-wide rate quota, from the claims it last read (pure; the
 * driver is adapters/shared-export-quota.ts).
 *
 * A claim counts from its `since` plus the activation delay until its `expiresAt`. The delay is
 * longer than one heartbeat, so by the time a new claim counts, every task already exporting has
 * read it and lowers its own rate at that same instant: the shares of the counting claims always
 * add up to the quota. A task that found no other live claim when it claimed counts at once
 * (`selfActiveFrom`): nobody else was exporting, and whoever claims after it will see it.
 */
export interface ShareView {
  readonly claims: QuotaClaims;
  readonly self: string;
  /** When this task's own claim counts (its `since` + delay, or earlier when it was alone). */
  readonly selfActiveFrom: number;
  readonly activationDelayMs: number;
}

export interface Share {
  /** Claims counting at this instant, this task's included when it counts. */
  readonly counting: number;
  /** This task may export (its claim is live and counts). */
  readonly selfCounts: boolean;
  /** The next instant at which `counting` or `selfCounts` changes as far as this view knows. */
  readonly nextChangeAt: number | undefined;
}

export function shareAt(view: ShareView, now: number): Share {
  let counting = 0;
  let selfCounts = false;
  let nextChangeAt: number | undefined;
  const later = (t: number) => {
    if (t > now && (nextChangeAt === undefined || t < nextChangeAt)) nextChangeAt = t;
  };
  for (const [id, claim] of view.claims) {
    const from = id === view.self ? view.selfActiveFrom : claim.since + view.activationDelayMs;
    later(from);
    later(claim.expiresAt);
    if (from <= now && now < claim.expiresAt) {
      counting += 1;
      if (id === view.self) selfCounts = true;
    }
  }
  return { counting, selfCounts, nextChangeAt };
}

/** Live claims of other tasks (not expired), whether they count yet or not. */
export function othersLive(claims: QuotaClaims, self: string, now: number): number {
  let n = 0;
  for (const [id, claim] of claims) if (id !== self && claim.expiresAt > now) n += 1;
  return n;
}

/** Claims of other tasks expired before `before`: left by tasks that died or went idle alone. */
export function longExpired(claims: QuotaClaims, self: string, before: number): QuotaClaims {
  return new Map([...claims].filter(([id, c]) => id !== self && c.expiresAt < before));
}

/**
 * Multiplicative decrease on throttling, additive recovery: the factor applied to the share.
 * A throttle means the shares add up to more than the account allows right now (a task that
 * just started or died, another client of the account, a quota lower than configured).
 */
export class ThrottleBackoff {
  readonly #decrease: number;
  readonly #recoverPerSecond: number;
  readonly #floor: number;
  readonly #minIntervalMs: number;
  #factor = 1;
  #at = 0;
  #lastDecrease = Number.NEGATIVE_INFINITY;

  constructor(
    options: {
      /** Factor kept on a throttle (0.7: 30 % slower). */
      decrease?: number;
      /** Factor regained per second without a throttle. */
      recoverPerSecond?: number;
      floor?: number;
      /** Throttles closer together than this count once (the calls already in flight). */
      minIntervalMs?: number;
    } = {},
  ) {
    this.#decrease = options.decrease ?? 0.7;
    this.#recoverPerSecond = options.recoverPerSecond ?? 0.1;
    this.#floor = options.floor ?? 0.1;
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
  }

  factor(now: number): number {
    if (now > this.#at) {
      this.#factor = Math.min(1, this.#factor + ((now - this.#at) / 1000) * this.#recoverPerSecond);
      this.#at = now;
    }
    return this.#factor;
  }

  /** Answers whether this throttle lowered the factor (not one of the same burst). */
  throttled(now: number): boolean {
    const current = this.factor(now);
    if (now - this.#lastDecrease < this.#minIntervalMs) return false;
    this.#lastDecrease = now;
    this.#factor = Math.max(this.#floor, current * this.#decrease);
    return true;
  }
}
