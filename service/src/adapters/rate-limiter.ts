/**
 * Paces calls to a rate. The worker's ExportCertificate limiter shares the account's quota with
 * every other task (shared-export-quota.ts).
 */
export interface RateLimiter {
  /** Resolves when the call may go. */
  take(): Promise<void>;
  /** The call given the last slot was throttled by the service (optional feedback). */
  throttled?(): void;
}
