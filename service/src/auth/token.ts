import { AuthenticationError } from './errors.ts';

/**
 * The bearer token of container mode: the parts of a SigV4-signed `sts:GetCallerIdentity`
 * request, which the service replays to its own configured STS endpoint.
 *
 * Wire format: `Authorization: AcmCertExport <base64url(JSON)>` where the JSON is
 * `{"v":1,"method":"POST","headers":{...lower-case names...},"body":"Action=GetCallerIdentity&Version=2011-06-15"}`.
 * There is deliberately no URL: the service never takes a host or path from a token.
 */

/** Authorization scheme of the header value (compared case-insensitively). */
export const authScheme = 'AcmCertExport';

/** The audience header: must be present, equal to the configured value, and signed. */
export const audienceHeader = 'x-acm-cert-export-server-id';

/** The only request body the service replays, byte for byte. */
export const callerIdentityBody = 'Action=GetCallerIdentity&Version=2011-06-15';

/** Largest accepted header value (scheme + encoded token), in bytes. */
export const maxTokenLength = 8 * 1024;

/** What a token carries: one signed POST, minus its destination. */
export interface SignedRequestParts {
  readonly method: 'POST';
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Encodes signed request parts as the `Authorization` header value. */
export function encodeToken(parts: SignedRequestParts): string {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parts.headers)) headers[name.toLowerCase()] = value;
  const json = JSON.stringify({ v: 1, method: parts.method, headers, body: parts.body });
  return `${authScheme} ${Buffer.from(json, 'utf8').toString('base64url')}`;
}

function malformed(message: string): AuthenticationError {
  return new AuthenticationError('MALFORMED_TOKEN', message);
}

/** Throws MISSING_TOKEN or TOKEN_TOO_LARGE; cheap, so it runs before anything else. */
export function assertTokenPresent(headerValue: string | undefined): asserts headerValue is string {
  if (headerValue === undefined || headerValue.trim() === '') {
    throw new AuthenticationError(
      'MISSING_TOKEN',
      `Authorization header missing: send "Authorization: ${authScheme} <token>" (acm-cert-export token prints one)`,
    );
  }
  if (headerValue.length > maxTokenLength) {
    throw new AuthenticationError(
      'TOKEN_TOO_LARGE',
      `Authorization header is ${headerValue.length} bytes; at most ${maxTokenLength} are accepted`,
    );
  }
}

/**
 * Decodes an `Authorization` header value into signed request parts. Checks the shape only;
 * `checkSignedRequest` decides whether the request is acceptable.
 */
export function decodeToken(headerValue: string | undefined): SignedRequestParts {
  assertTokenPresent(headerValue);
  const match = /^(\S+) +([A-Za-z0-9_-]+={0,2})$/.exec(headerValue.trim());
  if (match === null || match[1]?.toLowerCase() !== authScheme.toLowerCase()) {
    throw malformed(`Authorization header must be "${authScheme} <base64url token>"`);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(match[2] ?? '', 'base64url').toString('utf8'));
  } catch {
    throw malformed('token is not base64url-encoded JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('token is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  const unknownFields = Object.keys(record).filter(
    (k) => !['v', 'method', 'headers', 'body'].includes(k),
  );
  if (unknownFields.length > 0) {
    throw malformed(`token has unknown field(s) ${unknownFields.join(', ')}`);
  }
  if (record.v !== 1) throw malformed('token version must be 1');
  if (record.method !== undefined && record.method !== 'POST') {
    throw malformed('token method must be POST');
  }
  if (typeof record.body !== 'string') throw malformed('token body must be a string');
  const rawHeaders = record.headers;
  if (typeof rawHeaders !== 'object' || rawHeaders === null || Array.isArray(rawHeaders)) {
    throw malformed('token headers must be an object');
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(rawHeaders)) {
    const lower = name.toLowerCase();
    if (typeof headerValue !== 'string') throw malformed(`token header ${lower} must be a string`);
    if (!/^[a-z0-9-]{1,64}$/.test(lower)) throw malformed('token has an invalid header name');
    if (!/^[\x20-\x7e]*$/.test(headerValue)) {
      throw malformed(`token header ${lower} has characters outside printable ASCII`);
    }
    if (Object.hasOwn(headers, lower)) throw malformed(`token repeats header ${lower}`);
    headers[lower] = headerValue;
  }
  return { method: 'POST', headers, body: record.body };
}
