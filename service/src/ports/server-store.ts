import type { ServerResult } from '../domain/deployment.ts';
import type { InstalledServer } from '../domain/installed-server.ts';
import type { MappingKey, Page } from './mapping-store.ts';

/**
 * Per-server truth, one item per server (no per-item ceiling: a job to 5,000 servers is 5,000
 * small items, never one large one):
 * - each job's results, kept as long as its deployment record;
 * - what each server of a mapping holds now, as the last job that reached it recorded: what the
 *   reconciliation sweep compares with the servers online and with ACM's current certificate.
 */
export interface ServerStore {
  /** Records (or rewrites: idempotent) a job's per-server results, removed after `expiresAt`. */
  recordJobResults(jobId: string, results: readonly ServerResult[], expiresAt: Date): Promise<void>;
  /**
   * A job's end in as few writes as can hold it: its per-server results (removed after
   * `expiresAt`) and what each of those servers of the mapping now holds, together (25 items a
   * BatchWriteItem: a job to one server is one request). Idempotent.
   */
  recordJobEnd(
    jobId: string,
    results: readonly ServerResult[],
    expiresAt: Date,
    key: MappingKey,
    installed: readonly InstalledServer[],
  ): Promise<void>;
  /** A job's results, by instance id. */
  listJobResults(jobId: string, limit: number, cursor?: string): Promise<Page<ServerResult>>;
  /** Every server a job of this mapping reached, with what it holds now. */
  installed(key: MappingKey): Promise<InstalledServer[]>;
  /** Creates or replaces these servers' items for the mapping. */
  recordInstalled(key: MappingKey, servers: readonly InstalledServer[]): Promise<void>;
  /** Forgets every server of the mapping (stop-managing). */
  forgetMapping(key: MappingKey): Promise<void>;
}
