import { TerminalError } from '../domain/errors.ts';

/**
 * Stable error codes of the HTTP API. Clients may branch on `error.code`; the messages are for
 * people and may change. Every code is listed in docs/api.md (a unit test checks).
 */
export const errorCodes = {
  VALIDATION_FAILED: { status: 400, meaning: 'A field is missing or malformed; see details.' },
  INVALID_JSON: { status: 400, meaning: 'The body is not a JSON object.' },
  INVALID_CURSOR: { status: 400, meaning: 'The pagination cursor is not one this API returned.' },
  BAD_REQUEST: { status: 400, meaning: 'The HTTP request itself is malformed.' },
  UNAUTHENTICATED: { status: 401, meaning: 'The caller could not be identified; see reason.' },
  FORBIDDEN: { status: 403, meaning: 'The principal may not do this (action or target).' },
  CERTIFICATE_NOT_ALLOWED: {
    status: 403,
    meaning: 'The certificate ARN is not in the allow-list.',
  },
  NOT_FOUND: { status: 404, meaning: 'No such route.' },
  DEPLOYMENT_NOT_FOUND: { status: 404, meaning: 'No deployment with this id.' },
  MAPPING_NOT_FOUND: { status: 404, meaning: 'The certificate is not managed on this target.' },
  IDEMPOTENCY_KEY_REUSED: {
    status: 409,
    meaning: 'The Idempotency-Key was used before with a different request.',
  },
  MAPPING_BUSY: {
    status: 409,
    meaning: 'A deployment of this mapping is running; stop managing it once that job has ended.',
  },
  DEPLOYMENT_FINISHED: {
    status: 409,
    meaning: 'The deployment has already ended: there is nothing to cancel.',
  },
  REQUEST_TIMEOUT: { status: 408, meaning: 'The request was not received in time.' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The body is larger than the configured limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'Send Content-Type: application/json.' },
  HEADERS_TOO_LARGE: {
    status: 431,
    meaning: 'The request headers are larger than 16 KiB (check the Authorization header).',
  },
  INTERNAL_ERROR: { status: 500, meaning: 'A bug or misconfiguration; nothing is leaked.' },
  QUEUE_UNAVAILABLE: {
    status: 503,
    meaning: 'The job could not be queued; retry (with the same Idempotency-Key).',
  },
  DEPENDENCY_UNAVAILABLE: { status: 503, meaning: 'A table or secret store failed; retry.' },
  AUTH_UNAVAILABLE: { status: 503, meaning: 'STS could not be asked; retry.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof errorCodes;

/** One problem with one field. */
export interface ErrorDetail {
  /** Where: `body`, `query`, `params` or `headers`. */
  readonly in: string;
  /** JSON pointer into that part, e.g. `/target/key`; `` for the part itself. */
  readonly field: string;
  readonly problem: string;
}

/** An error the API reports to the caller as `{ error: { code, message, ... } }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details?: readonly ErrorDetail[];
  /** For UNAUTHENTICATED: the stable sub-reason (see auth/errors.ts). */
  readonly reason?: string;

  constructor(
    code: ErrorCode,
    message: string,
    extra: { details?: readonly ErrorDetail[]; reason?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.statusCode = errorCodes[code].status;
    if (extra.details !== undefined) this.details = extra.details;
    if (extra.reason !== undefined) this.reason = extra.reason;
  }
}

/**
 * Awaits a port call and classifies its failure the way the ports document it: a TerminalError
 * is a bug or a misconfiguration (500, except an invalid cursor: 400); anything else may pass
 * on a retry (503).
 */
export async function fromPort<T>(what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof TerminalError) {
      if (error.code === 'InvalidCursor') {
        throw new ApiError('INVALID_CURSOR', 'the cursor is not one this API returned', {
          cause: error,
        });
      }
      throw error;
    }
    throw new ApiError('DEPENDENCY_UNAVAILABLE', `${what} is unavailable; retry later`, {
      cause: error,
    });
  }
}
