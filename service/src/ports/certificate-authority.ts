import type { SecretValue } from '../domain/secret-value.ts';

export interface CertificateDescription {
  readonly arn: string;
  /** ACM status: ISSUED, PENDING_VALIDATION, EXPIRED, REVOKED, ... */
  readonly status: string;
  /** AMAZON_ISSUED, PRIVATE or IMPORTED. */
  readonly type: string;
  /** True for PRIVATE, and for AMAZON_ISSUED requested with `Options.Export = ENABLED`. */
  readonly exportable: boolean;
  readonly domainName?: string;
  readonly serial?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/**
 * What ExportCertificate returns. The key is encrypted with the passphrase given, and is secret
 * all the same: it never goes into a log, a record or a command parameter.
 */
export interface ExportedBundle {
  readonly certificate: string;
  readonly chain: string;
  readonly encryptedPrivateKey: SecretValue;
}

/**
 * ACM. Errors: TerminalError for not found / invalid ARN / not exportable / access denied;
 * anything else is retryable.
 */
export interface CertificateAuthority {
  describe(certificateArn: string): Promise<CertificateDescription>;
  export(certificateArn: string, passphrase: SecretValue): Promise<ExportedBundle>;
}
