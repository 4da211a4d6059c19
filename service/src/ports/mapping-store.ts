import type { InstallOptions } from '../domain/install-options.ts';
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
  /** Every mapping of one target tag: a Query of the `TagKeyValue` partition (never a Scan). */
  listByTarget(target: TargetTag): Promise<Mapping[]>;
  /**
   * Deletes the item unless a job holds its lock (a lease not yet expired at `now`): `deleted`
   * with what was deleted, `busy` with the holder, or `missing`. One conditional write: a job
   * taking the lock meanwhile makes it `busy`, never a mapping deleted under a running job.
   */
  deleteUnlocked(key: MappingKey, now: Date): Promise<DeleteResult>;
  /**
   * Takes the mapping's deployment lock for `jobId` until `until` (creating the item when it is
   * missing): jobs for one certificate, name and target run one at a time, in lock order.
   * Re-entrant for the same job; an expired lock can be taken over. `install`, when it holds any
   * option, becomes the mapping's install options in the same write: a retry or a renewal after
   * a failed first deployment installs the way the request asked.
   */
  acquireLock(
    key: MappingKey,
    jobId: string,
    until: Date,
    now: Date,
    install?: InstallOptions,
  ): Promise<LockResult>;
  /**
   * Releases the lock if `jobId` still holds it, writing `update` in the same conditional write:
   * only the holder of the lock ever records an outcome, so an older job can never overwrite a
   * newer one. Returns false when the job no longer held the lock (nothing written).
   */
  releaseLock(key: MappingKey, jobId: string, update?: MappingUpdate): Promise<boolean>;
  /**
   * Deletes a mapping that never had a successful install, if `jobId` holds its lock (a first
   * deployment that failed for good leaves nothing behind). Returns false when not deleted.
   */
  abandon(key: MappingKey, jobId: string): Promise<boolean>;
}

/** Fields a finishing job records on its mapping. */
export type MappingUpdate = Partial<
  Pick<
    Mapping,
    | 'install'
    | 'secretArn'
    | 'secretVersionId'
    | 'serial'
    | 'notBefore'
    | 'notAfter'
    | 'lastExportedAt'
    | 'lastJobId'
    | 'lastOutcome'
    | 'lastOutcomeAt'
    | 'rolloutHalted'
    | 'serverCount'
    | 'updatedAt'
  >
>;

export type DeleteResult =
  | { readonly outcome: 'deleted'; readonly mapping: Mapping }
  | { readonly outcome: 'busy'; readonly holder: string; readonly until: string }
  | { readonly outcome: 'missing' };

export type LockResult =
  /** `mapping`: the item as the lock left it (install options included). */
  | { readonly acquired: true; readonly mapping: Mapping }
  | { readonly acquired: false; readonly holder: string; readonly until: string };
