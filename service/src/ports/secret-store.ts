import type { SecretValue } from '../domain/secret-value.ts';

export interface StoredPassphrase {
  readonly secretArn: string;
  readonly versionId: string;
}

/**
 * Secrets Manager, for export passphrases under `acm-passphrase/`.
 * Errors: TerminalError for access denied / invalid names; anything else is retryable.
 */
export interface PassphraseStore {
  /**
   * Stores the passphrase as a new version of the secret `name` (created, tagged, when missing).
   * Idempotent for the same `token`: a replay returns the same version and stores nothing new.
   */
  putNewVersion(input: {
    readonly name: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly passphrase: SecretValue;
    readonly token: string;
  }): Promise<StoredPassphrase>;
  /**
   * Reads one version back (a worker resuming after a crash). TerminalError with code
   * `PassphraseNotFound` when the secret or the version does not exist.
   */
  getVersion(
    secretId: string,
    versionId: string,
  ): Promise<{ value: SecretValue; secretArn: string }>;
  /** Schedules the secret for deletion after the recovery window (7–30 days). */
  scheduleDeletion(secretId: string, recoveryWindowDays: number): Promise<void>;
}
