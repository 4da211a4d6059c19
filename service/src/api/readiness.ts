import type { Clock } from '../ports/clock.ts';
import type { Readiness, ReadinessProbe } from '../ports/readiness.ts';

export interface CachedReadinessOptions {
  /** How long one answer is reused: an unauthenticated route must not multiply AWS calls. */
  readonly ttlMs?: number;
  /** A probe slower than this counts as not ready. */
  readonly timeoutMs?: number;
}

/**
 * Wraps a probe: one check at a time, its answer reused for `ttlMs`, a slow or throwing probe
 * reported as not ready.
 */
export function cachedReadiness(
  probe: ReadinessProbe,
  clock: Clock,
  options: CachedReadinessOptions = {},
): () => Promise<Readiness> {
  const ttlMs = options.ttlMs ?? 2000;
  const timeoutMs = options.timeoutMs ?? 3000;
  let last: { at: number; value: Readiness } | undefined;
  let pending: Promise<Readiness> | undefined;

  async function run(): Promise<Readiness> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Readiness>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, details: { probe: { ok: false, message: 'timed out' } } }),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([
        probe.check().catch(
          (error: unknown): Readiness => ({
            ok: false,
            details: { probe: { ok: false, message: String(error) } },
          }),
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return async () => {
    const now = clock.now().getTime();
    if (last !== undefined && now - last.at < ttlMs) return last.value;
    pending ??= run().then((value) => {
      last = { at: clock.now().getTime(), value };
      pending = undefined;
      return value;
    });
    return pending;
  };
}
