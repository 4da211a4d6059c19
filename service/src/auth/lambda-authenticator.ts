import type { Authenticator } from './authenticator.ts';
import { AuthenticationError } from './errors.ts';
import { canonicalPrincipal } from './principal.ts';

const arnPattern = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/-]{1,512}$/;

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The caller ARN API Gateway put in the event after checking the SigV4 signature (AWS_IAM). */
export function lambdaCallerArn(event: unknown): string | undefined {
  const candidates = [
    // REST API (payload 1.0): requestContext.identity.userArn
    field(event, 'requestContext', 'identity', 'userArn'),
    // HTTP API (payload 2.0) with IAM authorization: requestContext.authorizer.iam.userArn
    field(event, 'requestContext', 'authorizer', 'iam', 'userArn'),
  ];
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && arnPattern.test(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Lambda mode: API Gateway with AWS_IAM authorization has verified the caller; the identity is
 * in the request context. A request without one (a route without IAM authorization, or the
 * app run outside Lambda) is refused: this mode never trusts a header.
 */
export function lambdaAuthenticator(): Authenticator {
  return {
    mode: 'lambda',
    async authenticate({ lambdaEvent }) {
      const arn = lambdaCallerArn(lambdaEvent);
      if (arn === undefined) {
        throw new AuthenticationError(
          'NO_IDENTITY',
          'no IAM caller identity in the request context: call through API Gateway with AWS_IAM authorization (SigV4-signed, e.g. awscurl)',
        );
      }
      return { principal: canonicalPrincipal(arn), arn, method: 'lambda' };
    },
  };
}
