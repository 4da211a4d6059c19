import { createHash } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';
import type { Authenticator, Identity } from './authenticator.ts';
import { AuthenticationError } from './errors.ts';
import { canonicalPrincipal } from './principal.ts';
import { checkSignedRequest } from './signed-request.ts';
import { stsReplay } from './sts-replay.ts';
import { assertTokenPresent, decodeToken } from './token.ts';

export interface StsAuthenticatorOptions {
  readonly audience: string;
  /** The only endpoint tokens are replayed to. */
  readonly stsEndpoint: string;
  readonly maxTokenAgeSeconds: number;
  readonly clock: Clock;
  /** Client clock skew tolerated for X-Amz-Date in the future (default 60 s). */
  readonly maxFutureSkewSeconds?: number;
  /** Most positive results kept at once (default 10,000). */
  readonly cacheSize?: number;
  readonly stsTimeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface StsAuthenticator extends Authenticator {
  /** Counters for benchmarks and tests. */
  stats(): { readonly stsCalls: number; readonly cacheHits: number; readonly cached: number };
}

interface Verified {
  readonly identity: Identity;
  readonly expiresAt: number;
}

/**
 * Container-mode authentication: the token is a signed sts:GetCallerIdentity request, checked
 * locally (`checkSignedRequest`), then replayed to the configured STS endpoint.
 *
 * Positive results are cached by a hash of the token until the token expires (X-Amz-Date +
 * maxTokenAgeSeconds), never longer; failures are not cached. Concurrent verifications of the
 * same token share one STS call, so a token costs at most one STS call while it is valid.
 */
export function stsAuthenticator(options: StsAuthenticatorOptions): StsAuthenticator {
  const stsHost = new URL(options.stsEndpoint).host;
  const replay = stsReplay({
    endpoint: options.stsEndpoint,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.stsTimeoutMs === undefined ? {} : { timeoutMs: options.stsTimeoutMs }),
  });
  const cacheSize = options.cacheSize ?? 10_000;
  const cache = new Map<string, Verified>();
  const inFlight = new Map<string, Promise<Verified>>();
  let stsCalls = 0;
  let cacheHits = 0;

  function remember(key: string, verified: Verified): void {
    const now = options.clock.now().getTime();
    if (verified.expiresAt <= now) return;
    if (cache.size >= cacheSize) {
      for (const [k, v] of cache) if (v.expiresAt <= now) cache.delete(k);
      // Still full: drop the oldest entries (Map iterates in insertion order).
      for (const k of cache.keys()) {
        if (cache.size < cacheSize) break;
        cache.delete(k);
      }
    }
    cache.set(key, verified);
  }

  async function verify(authorization: string): Promise<Verified> {
    const parts = decodeToken(authorization);
    const checked = checkSignedRequest(parts, {
      audience: options.audience,
      stsHost,
      maxTokenAgeSeconds: options.maxTokenAgeSeconds,
      maxFutureSkewSeconds: options.maxFutureSkewSeconds ?? 60,
      now: options.clock.now(),
    });
    stsCalls += 1;
    const caller = await replay(checked.replayHeaders, checked.accessKeyId);
    return {
      identity: { principal: canonicalPrincipal(caller.arn), arn: caller.arn, method: 'sts' },
      expiresAt: checked.expiresAt.getTime(),
    };
  }

  return {
    mode: 'sts',
    stats: () => ({ stsCalls, cacheHits, cached: cache.size }),
    async authenticate({ authorization }) {
      assertTokenPresent(authorization);
      const key = createHash('sha256').update(authorization).digest('base64url');
      const now = options.clock.now().getTime();
      const hit = cache.get(key);
      if (hit !== undefined) {
        if (hit.expiresAt > now) {
          cacheHits += 1;
          return hit.identity;
        }
        cache.delete(key);
      }
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = verify(authorization).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      const verified = await pending;
      remember(key, verified);
      if (verified.expiresAt <= options.clock.now().getTime()) {
        throw new AuthenticationError('TOKEN_EXPIRED', 'the token expired while it was verified');
      }
      return verified.identity;
    },
  };
}
