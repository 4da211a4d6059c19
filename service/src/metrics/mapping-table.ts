import type { MappingObservation, MappingRef } from '../ports/metrics.ts';

export interface MappingState extends MappingObservation {
  readonly ref: MappingRef;
}

const keyOf = (m: MappingRef) => `${m.certificateArn}\n${m.certName}\n${m.target}`;

/**
 * The mappings this process has seen (a deployment's end, the daily expiry check), at most
 * `limit`: the per-mapping series' cardinality is bounded by it, whatever the mappings table
 * holds. When full, the mapping observed longest ago makes room. Nothing here reads the table:
 * a scrape costs no AWS request.
 */
export class MappingTable {
  readonly #limit: number;
  /** In observation order, oldest first (a Map keeps insertion order). */
  readonly #entries = new Map<string, MappingState>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  observe(ref: MappingRef, observation: MappingObservation): void {
    if (this.#limit <= 0) return;
    const key = keyOf(ref);
    const before = this.#entries.get(key);
    this.#entries.delete(key);
    const defined = Object.fromEntries(
      Object.entries(observation).filter(([, v]) => v !== undefined),
    ) as MappingObservation;
    this.#entries.set(key, { ...before, ...defined, ref });
    while (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  forget(ref: MappingRef): void {
    this.#entries.delete(keyOf(ref));
  }

  get size(): number {
    return this.#entries.size;
  }

  *[Symbol.iterator](): IterableIterator<MappingState> {
    yield* this.#entries.values();
  }
}

/** Whole and fractional days from `now` to `notAfter` (negative once expired); undefined if unreadable. */
export function daysUntil(notAfter: string, now: Date): number | undefined {
  const at = Date.parse(notAfter);
  if (Number.isNaN(at)) return undefined;
  return Math.round(((at - now.getTime()) / 86_400_000) * 100) / 100;
}
