import type { SecretValue } from '../domain/secret-value.ts';

export interface StoredSecretVersion {
  readonly secretArn: string;
  readonly versionId: string;
}

/**
 * Secrets Manager, for the export secrets under `acm-passphrase/`: one secret per mapping, one
 * version per export, holding what the servers need that must never be a command parameter (the
 * encrypted private key and its passphrase; see `worker/export-secret.ts`).
 * Errors: TerminalError for access denied / invalid requests; anything else is retryable.
 */
export interface SecretStore {
  /**
   * Stores `value` as a new version of the secret `name`: created, tagged, when missing; restored
   * first when it is scheduled for deletion (a target managed again after stop-managing).
   * Idempotent for the same `token`: a replay returns the same version and stores nothing new.
   * `likelyMissing`: the caller knows of no secret yet (its mapping records none), so creating it
   * is tried first; either way the outcome is the same.
   */
  putNewVersion(input: {
    readonly name: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly value: SecretValue;
    readonly token: string;
    readonly likelyMissing?: boolean;
  }): Promise<StoredSecretVersion>;
  /**
   * Reads one version back. TerminalError with code `SecretVersionNotFound` when the secret or the
   * version does not exist.
   */
  getVersion(
    secretId: string,
    versionId: string,
  ): Promise<{ value: SecretValue; secretArn: string }>;
  /**
   * Schedules the secret (ARN or name) for deletion after the recovery window (7–30 days): true
   * when it is scheduled now or was already, false when there is no such secret.
   */
  scheduleDeletion(secretId: string, recoveryWindowDays: number): Promise<boolean>;
}
