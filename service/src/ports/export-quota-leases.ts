/**
 * The claims of the worker tasks on one account-wide rate quota (ACM's ExportCertificate quota
 * of one region), kept in one small shared item: each task with exports waiting renews its own
 * claim every heartbeat and reads everyone's in the same request (adapters/shared-export-quota.ts
 * turns them into its share of the quota).
 */
export interface QuotaClaim {
  /** When this claim was first made (epoch ms); it counts from `since` + the activation delay. */
  readonly since: number;
  /** The claim no longer counts from here on (epoch ms) unless renewed. */
  readonly expiresAt: number;
}

export type QuotaClaims = ReadonlyMap<string, QuotaClaim>;

export interface ClaimRequest {
  readonly taskId: string;
  readonly claim: QuotaClaim;
  /**
   * Claims of other tasks long expired, to remove in the same request, each only if it still
   * holds the value read (a task that came back in between keeps its new claim).
   */
  readonly forget: ReadonlyMap<string, QuotaClaim>;
}

export interface ExportQuotaLeases {
  /** Writes this task's claim and answers every claim, this one included (one request). */
  claim(request: ClaimRequest): Promise<QuotaClaims>;
  /** Removes this task's claim (it has no export waiting and others share the quota). */
  release(taskId: string): Promise<void>;
}
