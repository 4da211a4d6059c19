import type { Config } from '../config/config.ts';
import type { Clock } from '../ports/clock.ts';
import { lambdaAuthenticator } from './lambda-authenticator.ts';
import { stsAuthenticator } from './sts-authenticator.ts';

/** Who is calling. */
export interface Identity {
  /** Canonical ARN (role sessions as their role): matched against rules, recorded as requester. */
  readonly principal: string;
  /** The ARN as reported (the session ARN for a role). */
  readonly arn: string;
  readonly method: 'sts' | 'lambda' | 'none';
}

/** What an authenticator may look at. */
export interface AuthenticationRequest {
  /** The `Authorization` header value. */
  readonly authorization: string | undefined;
  /** The API Gateway event, when the app runs in Lambda through @fastify/aws-lambda. */
  readonly lambdaEvent?: unknown;
}

/**
 * Identifies callers. Throws AuthenticationError (HTTP 401) when the caller cannot be
 * identified, AuthUnavailableError (HTTP 503) when the identity provider cannot be asked.
 */
export interface Authenticator {
  readonly mode: Config['auth']['mode'];
  authenticate(request: AuthenticationRequest): Promise<Identity>;
}

/** AUTH_MODE=none: everyone is `anonymous`. Local development only. */
export const anonymousAuthenticator: Authenticator = {
  mode: 'none',
  authenticate: async () => ({ principal: 'anonymous', arn: 'anonymous', method: 'none' }),
};

export interface AuthenticatorDependencies {
  readonly clock: Clock;
  /** The HTTP client used to reach STS (defaults to the global fetch). */
  readonly fetch?: typeof fetch;
}

/** Builds the authenticator the configuration asks for (the composition root calls this). */
export function createAuthenticator(
  auth: Config['auth'],
  deps: AuthenticatorDependencies,
): Authenticator {
  switch (auth.mode) {
    case 'sts':
      return stsAuthenticator({
        audience: auth.audience,
        stsEndpoint: auth.stsEndpoint,
        maxTokenAgeSeconds: auth.maxTokenAgeSeconds,
        clock: deps.clock,
        ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      });
    case 'lambda':
      return lambdaAuthenticator();
    case 'none':
      return anonymousAuthenticator;
  }
}
