import pRetry from 'p-retry';
import { TerminalError } from '../domain/errors.ts';

/** The error name the SDK gives a service exception (`ResourceNotFoundException`, ...). */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** HTTP status the service answered with, when there was an answer. */
export function awsHttpStatus(error: unknown): number | undefined {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}

const accessDenied = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'NotAuthorized',
]);

export function isAccessDenied(error: unknown): boolean {
  const name = awsErrorName(error);
  return name !== undefined && accessDenied.has(name);
}

/**
 * Classifies an SDK error: the listed names become TerminalError with the given code; access
 * denied is always terminal; everything else (throttling, 5xx, network) is returned unchanged,
 * which means retryable.
 */
export function classify(
  error: unknown,
  terminal: Readonly<Record<string, string>>,
  describe: (name: string) => string,
): unknown {
  if (error instanceof TerminalError) return error;
  const name = awsErrorName(error);
  if (name !== undefined && name in terminal) {
    return new TerminalError(terminal[name] ?? name, describe(name), { cause: error });
  }
  if (isAccessDenied(error)) {
    return new TerminalError('AccessDenied', `${describe(name ?? 'AccessDenied')}: access denied`, {
      cause: error,
    });
  }
  return error;
}

const retryableNames =
  /Throttl|TooManyRequests|RequestLimitExceeded|ProvisionedThroughputExceeded|ServiceUnavailable|InternalServer|InternalFailure|InternalError|RequestTimeout|TimeoutError|SlowDown|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT/;

/**
 * Retryable: throttling, 5xx, timeouts and network failures (no HTTP answer at all).
 * Everything else (4xx, conditional-check failures, TerminalError) is for the caller to decide.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof TerminalError) return false;
  const name = awsErrorName(error) ?? '';
  if (retryableNames.test(name)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && retryableNames.test(code)) return true;
  const status = awsHttpStatus(error);
  if (status !== undefined) return status >= 500 || status === 429;
  // SDK service exceptions always carry $metadata; without one there was no answer.
  return (
    typeof error === 'object' &&
    error !== null &&
    !('$metadata' in error) &&
    !(error instanceof TypeError)
  );
}

const throttleNames = /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/;

/**
 * Whether a failed call may have been carried out although no answer said so: a network error
 * (the connection dropped, possibly after the service acted), a timeout or a 5xx. A throttle or
 * another 4xx is the service refusing before acting (EC2 answers its throttle with a 503), and a
 * TerminalError is such a refusal classified. For a call that is not idempotent (SendCommand has
 * no client token) a retry after such a failure must first look whether the call took effect.
 */
export function mayHaveActed(error: unknown): boolean {
  if (error instanceof TerminalError) return false;
  if (throttleNames.test(awsErrorName(error) ?? '')) return false;
  const status = awsHttpStatus(error);
  if (status !== undefined) return status >= 500;
  return true;
}

export interface RetryOptions {
  /** Extra attempts after the SDK's own retries are exhausted. */
  readonly retries?: number;
  readonly minTimeoutMs?: number;
  readonly maxTimeoutMs?: number;
}

/**
 * Runs an operation with p-retry on top of the SDK's adaptive retry: a TerminalError stops at
 * once; anything else is tried again with exponential backoff and jitter, then rethrown.
 */
export async function withRetry<T>(
  operation: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  return pRetry(operation, {
    retries: options.retries ?? 3,
    minTimeout: options.minTimeoutMs ?? 200,
    maxTimeout: options.maxTimeoutMs ?? 5_000,
    randomize: true,
    shouldRetry: ({ error }) => isRetryable(error),
  });
}
