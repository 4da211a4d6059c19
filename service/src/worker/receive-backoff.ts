import { setTimeout as sleep } from 'node:timers/promises';

export interface ReceiveBackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * One backoff for every consumer of a process: when SQS cannot be reached, each failed round
 * doubles the pause before the next receive (1 s up to 30 s, with jitter), so an outage costs a
 * few requests and a few log lines a minute instead of a tight loop per consumer. Failures while
 * a pause is in force belong to the same round and are not counted again.
 */
export class ReceiveBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  #failures = 0;
  #until = 0;

  constructor(options: ReceiveBackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 1000;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Consecutive failed rounds. */
  get failures(): number {
    return this.#failures;
  }

  /** Waits out the pause in force, if any (ends early when `signal` aborts). */
  async beforeReceive(signal: AbortSignal): Promise<void> {
    const wait = this.#until - this.#now();
    if (wait <= 0 || signal.aborted) return;
    try {
      await sleep(wait, undefined, { signal });
    } catch {
      // aborted: the consumer is stopping
    }
  }

  /** A receive failed. Returns the pause started, or undefined when one was already in force. */
  failed(): number | undefined {
    const now = this.#now();
    if (now < this.#until) return undefined;
    this.#failures++;
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** (this.#failures - 1));
    const delay = Math.round(base * (0.8 + 0.2 * this.#random()));
    this.#until = now + delay;
    return delay;
  }

  /** A receive succeeded. Returns how many failed rounds it ends (0 when none). */
  succeeded(): number {
    const ended = this.#failures;
    this.#failures = 0;
    this.#until = 0;
    return ended;
  }
}
