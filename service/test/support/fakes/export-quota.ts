import type { Clock } from '../../../src/ports/clock.ts';
import type {
  ClaimRequest,
  ExportQuotaLeases,
  QuotaClaim,
  QuotaClaims,
} from '../../../src/ports/export-quota-leases.ts';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly wake: () => void;
}

/**
 * Virtual time for simulations: a clock and a sleep that only move when the test runs them.
 * `runFor` wakes the sleepers in time order, letting every promise settle in between.
 */
export class VirtualTime implements Clock {
  #now = Date.parse('2026-11-27T00:00:00.000Z');
  #seq = 0;
  readonly #timers: Timer[] = [];

  now(): Date {
    return new Date(this.#now);
  }

  get ms(): number {
    return this.#now;
  }

  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((wake) => {
      this.#timers.push({ at: this.#now + Math.max(0, ms), seq: this.#seq++, wake });
    });

  async runFor(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      let next: Timer | undefined;
      for (const t of this.#timers) {
        if (
          t.at <= end &&
          (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))
        )
          next = t;
      }
      if (next === undefined) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = next.at;
      next.wake();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets every pending promise callback run (microtasks drain before the next macrotask). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The shared item in memory, with the DynamoDB adapter's semantics: a claim sets the task's
 * entry and answers them all; a claim to forget goes only if it still holds the value read
 * (otherwise the claim is made without forgetting). Every request is recorded.
 */
export class FakeExportQuotaLeases implements ExportQuotaLeases {
  readonly claims = new Map<string, QuotaClaim>();
  readonly requests: { op: 'claim' | 'release'; taskId: string; at: number }[] = [];
  /** Tasks whose requests fail (a task cut off from DynamoDB, or dead). */
  readonly failing = new Set<string>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** One task's view of the item: its requests go here, under its name. */
  async claim(request: ClaimRequest): Promise<QuotaClaims> {
    this.#record('claim', request.taskId);
    const stillAsRead = [...request.forget].every(
      ([id, c]) => this.claims.get(id)?.expiresAt === c.expiresAt,
    );
    if (stillAsRead) for (const id of request.forget.keys()) this.claims.delete(id);
    this.claims.set(request.taskId, request.claim);
    return new Map(this.claims);
  }

  async release(taskId: string): Promise<void> {
    this.#record('release', taskId);
    this.claims.delete(taskId);
  }

  count(op: 'claim' | 'release', taskId?: string): number {
    return this.requests.filter((r) => r.op === op && (taskId === undefined || r.taskId === taskId))
      .length;
  }

  #record(op: 'claim' | 'release', taskId: string): void {
    if (this.failing.has(taskId))
      throw Object.assign(new Error('unreachable'), { name: 'TimeoutError' });
    this.requests.push({ op, taskId, at: this.#clock.now().getTime() });
  }
}

/** ACM's quota as the test bed's proxy enforces it: a token bucket holding one second's worth. */
export class TokenBucket {
  #tokens: number;
  #at: number;
  readonly #perSecond: number;

  constructor(perSecond: number, now: number) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond;
    this.#at = now;
  }

  take(now: number): boolean {
    this.#tokens = Math.min(
      this.#perSecond,
      this.#tokens + ((now - this.#at) / 1000) * this.#perSecond,
    );
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
