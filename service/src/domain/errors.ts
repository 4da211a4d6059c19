/**
 * Failure classes. Every adapter maps what it catches to one of these at its boundary:
 * - TerminalError: retrying cannot help (not found, not exportable, access denied, invalid).
 *   The job ends `Failed` with the message as its reason, and the queue message is acknowledged.
 * - anything else thrown is retryable: the SDK and p-retry retried it already; the message goes
 *   back to the queue and the job resumes from its recorded state.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  /** A stable code, e.g. `CertificateNotFound`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A conditional write lost against a concurrent writer: re-read and decide again. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

export function isTerminal(error: unknown): error is TerminalError {
  return error instanceof TerminalError;
}
