/** Why a caller could not be identified. Stable: returned as `error.reason` with HTTP 401. */
export type AuthFailureReason =
  | 'MISSING_TOKEN'
  | 'TOKEN_TOO_LARGE'
  | 'MALFORMED_TOKEN'
  | 'WRONG_ACTION'
  | 'WRONG_HOST'
  | 'AUDIENCE_MISSING'
  | 'AUDIENCE_NOT_SIGNED'
  | 'AUDIENCE_MISMATCH'
  | 'TOKEN_EXPIRED'
  | 'STS_REJECTED'
  | 'NO_IDENTITY';

/** The caller is not identified (HTTP 401). The message is safe to return to the caller. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  readonly reason: AuthFailureReason;
  /** The access key id the token claims, when known (an identifier, not a secret). */
  readonly accessKeyId?: string;

  constructor(
    reason: AuthFailureReason,
    message: string,
    options?: { accessKeyId?: string; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    if (options?.accessKeyId !== undefined) this.accessKeyId = options.accessKeyId;
  }
}

/** STS could not be asked (network, timeout, 5xx, throttling): not the caller's fault (HTTP 503). */
export class AuthUnavailableError extends Error {
  override readonly name = 'AuthUnavailableError';
}

export function isAuthenticationError(error: unknown): error is AuthenticationError {
  return error instanceof AuthenticationError;
}
