import type { Mapping } from '../domain/mapping.ts';
import type { TargetTag } from '../domain/target.ts';

export interface MappingKey {
  readonly target: TargetTag;
  readonly certificateArn: string;
  readonly certName: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  readonly cursor?: string;
}

/** The `CertTagMapping` table. */
export interface MappingStore {
  get(key: MappingKey): Promise<Mapping | undefined>;
  /** Creates or replaces the item (never the passphrase: the type has no field for it). */
  put(mapping: Mapping): Promise<void>;
  /** Every mapping of a certificate, through the certificate-ARN index (never a Scan). */
  listByCertificate(certificateArn: string): Promise<Mapping[]>;
  list(limit: number, cursor?: string): Promise<Page<Mapping>>;
  /** Deletes the item and returns what was deleted. */
  delete(key: MappingKey): Promise<Mapping | undefined>;
}
