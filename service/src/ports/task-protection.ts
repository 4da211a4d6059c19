/**
 * ECS task scale-in protection, as the worker needs it: while the task protects itself, neither a
 * scale-in of the service nor a deployment stops it, so a job in hand is not cut short.
 */
export interface TaskProtection {
  /**
   * Protects this task for `minutes` from now (a call while protected moves the expiry). Resolves
   * with the expiry ECS recorded, when it says; rejects when ECS did not record the protection.
   */
  protect(minutes: number): Promise<{ readonly expiresAt?: Date }>;
  /** Makes this task eligible for scale-in again. */
  release(): Promise<void>;
}
