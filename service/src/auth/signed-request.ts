import { AuthenticationError } from './errors.ts';
import { audienceHeader, callerIdentityBody, type SignedRequestParts } from './token.ts';

/** What the service requires of a token before it spends an STS call on it. */
export interface SignedRequestPolicy {
  /** The configured audience value. */
  readonly audience: string;
  /** `host[:port]` of the configured STS endpoint (the signature covers it). */
  readonly stsHost: string;
  readonly maxTokenAgeSeconds: number;
  /** How far in the future X-Amz-Date may be (client clock skew). */
  readonly maxFutureSkewSeconds: number;
  readonly now: Date;
}

/** The facts a well-formed token establishes before STS is asked. */
export interface CheckedRequest {
  readonly accessKeyId: string;
  readonly signedAt: Date;
  /** Never later than signedAt + maxTokenAgeSeconds: positive results are cached until then. */
  readonly expiresAt: Date;
  /** The headers to replay (signed ones plus the Authorization header), lower-case names. */
  readonly replayHeaders: Readonly<Record<string, string>>;
}

const authorizationPattern =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/sts\/aws4_request, ?SignedHeaders=([a-z0-9;-]{1,1024}), ?Signature=([0-9a-f]{64})$/;

/** Signed headers a GetCallerIdentity request may carry; anything else is refused. */
function acceptableSignedHeader(name: string): boolean {
  return (
    name === 'host' ||
    name === 'content-type' ||
    name === 'content-length' ||
    name === audienceHeader ||
    (name.startsWith('x-amz-') && name !== 'x-amz-target')
  );
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Every check that does not need STS, in the order that gives the caller the most useful
 * message. Pure: a function of the token, the configuration and the time.
 */
export function checkSignedRequest(
  parts: SignedRequestParts,
  policy: SignedRequestPolicy,
): CheckedRequest {
  const { headers } = parts;
  if (parts.body !== callerIdentityBody) {
    throw new AuthenticationError(
      'WRONG_ACTION',
      `the signed request must be exactly "${callerIdentityBody}" (sts:GetCallerIdentity)`,
    );
  }
  const authorization = headers.authorization;
  if (authorization === undefined) {
    throw new AuthenticationError(
      'MALFORMED_TOKEN',
      'the token carries no signature (no authorization header)',
    );
  }
  const sig = authorizationPattern.exec(authorization);
  if (sig === null) {
    throw new AuthenticationError(
      'MALFORMED_TOKEN',
      'the signed request must carry an AWS4-HMAC-SHA256 signature for service sts',
    );
  }
  const accessKeyId = sig[1] ?? '';
  const scopeDate = sig[2] ?? '';
  const signedHeaders = (sig[4] ?? '').split(';');
  const fail = (reason: AuthenticationError['reason'], message: string) =>
    new AuthenticationError(reason, message, { accessKeyId });

  for (const name of signedHeaders) {
    if (!acceptableSignedHeader(name)) {
      throw fail('MALFORMED_TOKEN', `signed header "${name}" is not accepted`);
    }
    if (headers[name] === undefined) {
      throw fail('MALFORMED_TOKEN', `signed header "${name}" is missing from the token`);
    }
  }
  for (const name of Object.keys(headers)) {
    if (name !== 'authorization' && !signedHeaders.includes(name)) {
      if (name === audienceHeader) continue; // reported below with a precise reason
      if (name !== 'content-type') {
        throw fail('MALFORMED_TOKEN', `header "${name}" is in the token but not signed`);
      }
    }
  }

  const host = headers.host;
  if (host === undefined || !signedHeaders.includes('host')) {
    throw fail('MALFORMED_TOKEN', 'the host header must be signed');
  }
  if (host.toLowerCase() !== policy.stsHost.toLowerCase()) {
    throw fail(
      'WRONG_HOST',
      `the token is signed for host "${host}"; this service verifies tokens with "${policy.stsHost}": sign for that endpoint`,
    );
  }

  const audience = headers[audienceHeader];
  if (audience === undefined) {
    throw fail('AUDIENCE_MISSING', `the signed request must carry the ${audienceHeader} header`);
  }
  if (!signedHeaders.includes(audienceHeader)) {
    throw fail('AUDIENCE_NOT_SIGNED', `the ${audienceHeader} header must be signed`);
  }
  if (audience !== policy.audience) {
    throw fail(
      'AUDIENCE_MISMATCH',
      `the token is for audience "${audience}", not "${policy.audience}"`,
    );
  }

  const contentType = headers['content-type'];
  if (
    contentType !== undefined &&
    !contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')
  ) {
    throw fail('MALFORMED_TOKEN', 'content-type must be application/x-www-form-urlencoded');
  }
  const contentLength = headers['content-length'];
  if (contentLength !== undefined && contentLength !== String(Buffer.byteLength(parts.body))) {
    throw fail('MALFORMED_TOKEN', 'content-length does not match the body');
  }

  const amzDate = headers['x-amz-date'];
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signedAt === undefined || !signedHeaders.includes('x-amz-date')) {
    throw fail('MALFORMED_TOKEN', 'the signed request must carry a signed X-Amz-Date');
  }
  if (!amzDate.startsWith(scopeDate)) {
    throw fail('MALFORMED_TOKEN', 'the credential scope date differs from X-Amz-Date');
  }
  const ageSeconds = (policy.now.getTime() - signedAt.getTime()) / 1000;
  if (ageSeconds >= policy.maxTokenAgeSeconds) {
    throw fail(
      'TOKEN_EXPIRED',
      `the token was signed ${Math.floor(ageSeconds)} s ago; tokens are valid for ${policy.maxTokenAgeSeconds} s: make a new one`,
    );
  }
  if (-ageSeconds > policy.maxFutureSkewSeconds) {
    throw fail(
      'TOKEN_EXPIRED',
      `the token is dated ${Math.ceil(-ageSeconds)} s in the future: check the client's clock`,
    );
  }

  const replayHeaders: Record<string, string> = { authorization };
  for (const name of signedHeaders) {
    // host and content-length are set by the HTTP client from the configured URL and the body.
    if (name === 'host' || name === 'content-length') continue;
    replayHeaders[name] = headers[name] ?? '';
  }
  replayHeaders['content-type'] = contentType ?? 'application/x-www-form-urlencoded; charset=utf-8';
  return {
    accessKeyId,
    signedAt,
    expiresAt: new Date(signedAt.getTime() + policy.maxTokenAgeSeconds * 1000),
    replayHeaders,
  };
}
