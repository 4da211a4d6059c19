import {
  longExpired,
  othersLive,
  type ShareView,
  shareAt,
  ThrottleBackoff,
} from '../domain/quota-share.ts';
import type { Clock } from '../ports/clock.ts';
import type { ExportQuotaLeases, QuotaClaims } from '../ports/export-quota-leases.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface QuotaLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface SharedExportQuotaOptions {
  readonly leases: ExportQuotaLeases;
  /** This process's id in the shared item (unique per process). */
  readonly taskId: string;
  /** The account's quota in this region, shared by every task (ACM ExportCertificate: 5). */
  readonly quotaPerSecond: number;
  /** How often a task with exports waiting renews its claim and reads the others'. */
  readonly heartbeatMs: number;
  readonly clock: Clock;
  /**
   * Waits `ms`. `background`: the wait between heartbeats, which must not keep the process
   * alive; an export waiting for its slot does.
   */
  readonly sleep: (ms: number, background: boolean) => Promise<void>;
  readonly log?: QuotaLog;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface OwnClaim {
  readonly since: number;
  readonly expiresAt: number;
  /** When this task's claim counts: `since` + delay, or `since` when it claimed alone. */
  readonly activeFrom: number;
}

/**
 * One account-wide quota shared by every worker task, without a request per call: each task
 * that has calls waiting holds a claim in one shared item (ports/export-quota-leases.ts),
 * renewed every heartbeat by the one request that also reads every other claim; its rate is the
 * quota divided by the claims that count (domain/quota-share.ts), lowered multiplicatively on a
 * throttle and regained additively. A task with nothing waiting for a heartbeat stops renewing:
 * it removes its claim when others share the quota, or lets it lapse (3 heartbeats) when it was
 * alone, so that a lone export costs one request (its claim).
 *
 * Calls wait in arrival order; slots are spaced 1/rate apart, a late wake-up does not shift the
 * next slot (no drift) and an idle spell banks no burst.
 */
export class SharedExportQuota implements RateLimiter {
  readonly #o: SharedExportQuotaOptions;
  readonly #ttlMs: number;
  readonly #activationDelayMs: number;
  readonly #backoff = new ThrottleBackoff();
  readonly #queue: Waiter[] = [];
  #pumping = false;
  #beating = false;
  #own: OwnClaim | undefined;
  #claims: QuotaClaims = new Map();
  #lastClaimAt = Number.NEGATIVE_INFINITY;
  #lastSlot = Number.NEGATIVE_INFINITY;
  #grantsSinceBeat = 0;
  #refreshWanted = false;
  #wakeHeartbeat: (() => void) | undefined;
  /** Lease requests one after another: a release never overtakes the claim that follows it. */
  #leaseOps: Promise<unknown> = Promise.resolve();
  #lastCounting = 0;

  constructor(options: SharedExportQuotaOptions) {
    this.#o = options;
    this.#ttlMs = 3 * options.heartbeatMs;
    this.#activationDelayMs = options.heartbeatMs + Math.max(1000, options.heartbeatMs / 5);
  }

  take(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ resolve, reject });
      void this.#pump();
    });
  }

  /** The call a slot was given to was throttled: slow down, and read the claims again soon. */
  throttled(): void {
    const now = this.#now();
    if (this.#backoff.throttled(now)) {
      this.#o.log?.info(
        { factor: Number(this.#backoff.factor(now).toFixed(2)) },
        'ExportCertificate throttled: this task slows down',
      );
    }
    this.#refreshWanted = true;
    this.#wakeHeartbeat?.();
  }

  /** What this task knows now (for logs and tests). */
  snapshot() {
    const now = this.#now();
    const share = this.#own === undefined ? undefined : shareAt(this.#view(this.#own), now);
    const counting = share?.counting ?? 0;
    const factor = this.#backoff.factor(now);
    return {
      claimed: this.#own !== undefined && this.#own.expiresAt > now,
      counting,
      ratePerSecond: share?.selfCounts === true ? (this.#o.quotaPerSecond / counting) * factor : 0,
      factor,
      waiting: this.#queue.length,
    };
  }

  #now(): number {
    return this.#o.clock.now().getTime();
  }

  #view(own: OwnClaim): ShareView {
    return {
      claims: this.#claims,
      self: this.#o.taskId,
      selfActiveFrom: own.activeFrom,
      activationDelayMs: this.#activationDelayMs,
    };
  }

  #lease<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#leaseOps.then(op, op);
    this.#leaseOps = next.catch(() => undefined);
    return next;
  }

  /** Claims (or renews) and reads every claim: one request. */
  #renew(): Promise<void> {
    return this.#lease(async () => {
      const now = this.#now();
      const own = this.#own;
      const lapsed = own === undefined || own.expiresAt <= now;
      const since = lapsed ? now : own.since;
      const expiresAt = now + this.#ttlMs;
      const claims = await this.#o.leases.claim({
        taskId: this.#o.taskId,
        claim: { since, expiresAt },
        forget: longExpired(this.#claims, this.#o.taskId, now - this.#ttlMs),
      });
      const activeFrom = !lapsed
        ? own.activeFrom
        : othersLive(claims, this.#o.taskId, now) === 0
          ? now
          : since + this.#activationDelayMs;
      this.#own = { since, expiresAt, activeFrom };
      this.#claims = claims;
      this.#lastClaimAt = now;
      this.#refreshWanted = false;
      const live = othersLive(claims, this.#o.taskId, now) + 1;
      if (live !== this.#lastCounting) {
        this.#lastCounting = live;
        this.#o.log?.info(
          {
            tasks: live,
            quotaPerSecond: this.#o.quotaPerSecond,
            shareWhenAllCount: Number((this.#o.quotaPerSecond / live).toFixed(3)),
            ...(activeFrom > now ? { countsInMs: activeFrom - now } : {}),
          },
          `export quota shared by ${live} task${live === 1 ? '' : 's'}`,
        );
      }
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        let now = this.#now();
        if (this.#own === undefined || this.#own.expiresAt <= now) {
          try {
            await this.#renew();
          } catch (error) {
            // No claim, no export: every call waiting fails with the reason (retryable or not,
            // as the lease store classified it) instead of waiting unseen.
            for (const w of this.#queue.splice(0)) w.reject(error);
            continue;
          }
          now = this.#now();
        }
        this.#startHeartbeat();
        const own = this.#own;
        if (own === undefined) continue;
        const share = shareAt(this.#view(own), now);
        const cap = (t: number | undefined) =>
          Math.max(1, Math.min(own.expiresAt, t ?? Number.POSITIVE_INFINITY) - now);
        if (!share.selfCounts) {
          // Others are exporting and have not all seen this claim yet: wait until it counts.
          await this.#o.sleep(Math.min(cap(share.nextChangeAt), this.#o.heartbeatMs), false);
          continue;
        }
        const rate = (this.#o.quotaPerSecond / share.counting) * this.#backoff.factor(now);
        const spacing = 1000 / rate;
        const due = this.#lastSlot + spacing;
        if (due > now) {
          await this.#o.sleep(Math.min(due - now, cap(share.nextChangeAt)), false);
          continue;
        }
        this.#lastSlot = now - due < spacing ? due : now;
        this.#grantsSinceBeat += 1;
        this.#queue.shift()?.resolve();
      }
    } finally {
      this.#pumping = false;
    }
  }

  #startHeartbeat(): void {
    if (this.#beating) return;
    this.#beating = true;
    this.#grantsSinceBeat = 0;
    void this.#heartbeat();
  }

  async #heartbeat(): Promise<void> {
    const P = this.#o.heartbeatMs;
    let retryAt: number | undefined;
    for (;;) {
      const now = this.#now();
      const due =
        retryAt ??
        (this.#refreshWanted
          ? Math.max(this.#lastClaimAt + Math.min(1000, P), now)
          : this.#lastClaimAt + P);
      if (now < due) {
        await new Promise<void>((resolve) => {
          this.#wakeHeartbeat = resolve;
          void this.#o.sleep(due - now, true).then(resolve);
        });
        this.#wakeHeartbeat = undefined;
        continue;
      }
      retryAt = undefined;
      // Idle: nothing waits now and, when others share the quota, nothing went for a whole
      // heartbeat (a busy task whose line is empty for a moment keeps its claim). Alone, an
      // empty line is enough: the claim lapses by itself, and a lone export costs one request.
      const alone = othersLive(this.#claims, this.#o.taskId, now) === 0;
      if (
        this.#queue.length === 0 &&
        !this.#refreshWanted &&
        (alone || this.#grantsSinceBeat === 0)
      ) {
        await this.#goIdle(now);
        return;
      }
      this.#grantsSinceBeat = 0;
      try {
        await this.#renew();
      } catch (error) {
        // The claim stays good until it expires (3 heartbeats); the pump stops at its expiry.
        this.#o.log?.warn({ err: error }, 'renewing the export quota claim failed');
        retryAt = this.#now() + Math.min(1000, P);
      }
    }
  }

  /** Nothing waited for a whole heartbeat: stop renewing; give the share back if others wait. */
  async #goIdle(now: number): Promise<void> {
    this.#beating = false;
    const own = this.#own;
    if (own === undefined || own.expiresAt <= now) return;
    if (othersLive(this.#claims, this.#o.taskId, now) === 0) return; // alone: let it lapse
    this.#own = undefined;
    this.#lastCounting = 0;
    try {
      await this.#lease(() => this.#o.leases.release(this.#o.taskId));
    } catch (error) {
      this.#o.log?.warn({ err: error }, 'releasing the export quota claim failed (it lapses)');
    }
  }
}
