import type { InstallOptions } from './install-options.ts';
import type { TargetTag } from './target.ts';

/**
 * A `CertTagMapping` item: this certificate is installed under this name on the servers of this
 * target tag, and is re-exported and re-installed on every renewal. Holds no secret.
 */
export interface Mapping {
  readonly certificateArn: string;
  readonly certName: string;
  readonly target: TargetTag;
  readonly install: InstallOptions;
  /** The Secrets Manager secret that holds this mapping's passphrases (one per mapping). */
  readonly secretArn?: string;
  readonly serial?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly lastExportedAt?: string;
  readonly lastJobId?: string;
  readonly lastOutcome?: string;
  readonly lastOutcomeAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}
