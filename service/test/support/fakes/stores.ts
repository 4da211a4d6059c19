import type { Deployment, ServerResult } from '../../../src/domain/deployment.ts';
import { ConflictError, TerminalError } from '../../../src/domain/errors.ts';
import { hasInstallOptions, type InstallOptions } from '../../../src/domain/install-options.ts';
import type { InstalledServer } from '../../../src/domain/installed-server.ts';
import type { Mapping } from '../../../src/domain/mapping.ts';
import { certificateArnCertName, tagKeyValue } from '../../../src/domain/target.ts';
import type { DeploymentStore } from '../../../src/ports/deployment-store.ts';
import type {
  DeleteResult,
  LockResult,
  MappingKey,
  MappingStore,
  MappingUpdate,
  Page,
} from '../../../src/ports/mapping-store.ts';
import type { ServerStore } from '../../../src/ports/server-store.ts';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** DeploymentStore in memory, with the same optimistic-concurrency rule as DynamoDB. */
export class InMemoryDeploymentStore implements DeploymentStore {
  readonly records = new Map<string, Deployment>();
  /** Every version written, in order (for assertions on the history). */
  readonly history: Deployment[] = [];

  async create(d: Deployment) {
    const existing = this.records.get(d.job.jobId);
    if (existing !== undefined) return { created: false, deployment: clone(existing) };
    this.records.set(d.job.jobId, clone(d));
    this.history.push(clone(d));
    return { created: true, deployment: clone(d) };
  }

  async get(jobId: string) {
    const d = this.records.get(jobId);
    return d === undefined ? undefined : clone(d);
  }

  async save(next: Deployment) {
    const stored = this.records.get(next.job.jobId);
    if (stored === undefined || stored.version !== next.version - 1) {
      throw new ConflictError(`version conflict on ${next.job.jobId}`);
    }
    this.records.set(next.job.jobId, clone(next));
    this.history.push(clone(next));
    return clone(next);
  }

  async listByCertificate(arn: string, limit: number): Promise<Page<Deployment>> {
    const items = [...this.records.values()]
      .filter((d) => d.job.certificateArn === arn)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit);
    return { items: clone(items) };
  }
}

interface StoredMapping {
  mapping: Mapping;
  lock?: { jobId: string; until: string };
}

/** MappingStore in memory, with the lock semantics of the DynamoDB adapter. */
export class InMemoryMappingStore implements MappingStore {
  readonly items = new Map<string, StoredMapping>();

  static keyString(key: MappingKey): string {
    return `${tagKeyValue(key.target)}|${certificateArnCertName(key.certificateArn, key.certName)}`;
  }

  #entry(key: MappingKey): StoredMapping | undefined {
    return this.items.get(InMemoryMappingStore.keyString(key));
  }

  async get(key: MappingKey) {
    const e = this.#entry(key);
    if (e === undefined) return undefined;
    return e.lock === undefined ? clone(e.mapping) : { ...clone(e.mapping), lock: { ...e.lock } };
  }

  async put(m: Mapping) {
    const e = this.#entry(m);
    this.items.set(InMemoryMappingStore.keyString(m), {
      ...e,
      mapping: clone({ ...m, createdAt: e?.mapping.createdAt ?? m.createdAt }),
    });
  }

  async listByCertificate(arn: string) {
    return [...this.items.values()]
      .filter((e) => e.mapping.certificateArn === arn)
      .map((e) => clone(e.mapping));
  }

  async listByTarget(target: { key: string; value: string }) {
    return [...this.items.values()]
      .filter((e) => e.mapping.target.key === target.key && e.mapping.target.value === target.value)
      .map((e) => clone(e.mapping));
  }

  async list(limit: number, cursor?: string) {
    const all = [...this.items.values()].map((e) => e.mapping);
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(start) || start < 0) {
      throw new TerminalError('InvalidCursor', 'cursor is not one this service returned');
    }
    const items = all.slice(start, start + limit);
    return start + limit < all.length
      ? { items: clone(items), cursor: String(start + limit) }
      : { items: clone(items) };
  }

  async deleteUnlocked(key: MappingKey, now: Date): Promise<DeleteResult> {
    const e = this.#entry(key);
    if (e === undefined) return { outcome: 'missing' };
    if (e.lock !== undefined && e.lock.until >= now.toISOString()) {
      return { outcome: 'busy', holder: e.lock.jobId, until: e.lock.until };
    }
    this.items.delete(InMemoryMappingStore.keyString(key));
    return { outcome: 'deleted', mapping: clone(e.mapping) };
  }

  lockOf(key: MappingKey) {
    return this.#entry(key)?.lock;
  }

  async acquireLock(
    key: MappingKey,
    jobId: string,
    until: Date,
    now: Date,
    install?: InstallOptions,
  ): Promise<LockResult> {
    const e = this.#entry(key);
    if (e?.lock !== undefined && e.lock.jobId !== jobId && e.lock.until >= now.toISOString()) {
      return { acquired: false, holder: e.lock.jobId, until: e.lock.until };
    }
    const at = now.toISOString();
    const existing: Mapping = e?.mapping ?? {
      certificateArn: key.certificateArn,
      certName: key.certName,
      target: key.target,
      install: {},
      createdAt: at,
      updatedAt: at,
    };
    const mapping =
      install !== undefined && hasInstallOptions(install)
        ? { ...existing, install: clone(install) }
        : existing;
    this.items.set(InMemoryMappingStore.keyString(key), {
      mapping,
      lock: { jobId, until: until.toISOString() },
    });
    return { acquired: true, mapping: clone(mapping) };
  }

  async releaseLock(key: MappingKey, jobId: string, update: MappingUpdate = {}) {
    const e = this.#entry(key);
    if (e?.lock?.jobId !== jobId) return false;
    const defined = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
    this.items.set(InMemoryMappingStore.keyString(key), {
      mapping: { ...e.mapping, ...clone(defined) },
    });
    return true;
  }

  async abandon(key: MappingKey, jobId: string) {
    const e = this.#entry(key);
    if (
      e?.lock?.jobId !== jobId ||
      e.mapping.serial !== undefined ||
      e.mapping.lastExportedAt !== undefined
    )
      return false;
    this.items.delete(InMemoryMappingStore.keyString(key));
    return true;
  }
}

/** ServerStore in memory: items by owner, then instance id (sorted, as DynamoDB returns them). */
export class InMemoryServerStore implements ServerStore {
  readonly jobs = new Map<string, Map<string, ServerResult>>();
  readonly mappings = new Map<string, Map<string, InstalledServer>>();

  /** Every write of a job's end, as the store was asked (a test counts them). */
  readonly jobEnds: { jobId: string; results: number; installed: number }[] = [];
  /** How many times what a mapping's servers hold was read. */
  installedReads = 0;

  async recordJobEnd(
    jobId: string,
    results: readonly ServerResult[],
    expiresAt: Date,
    key: MappingKey,
    installed: readonly InstalledServer[],
  ) {
    this.jobEnds.push({ jobId, results: results.length, installed: installed.length });
    await this.recordJobResults(jobId, results, expiresAt);
    await this.recordInstalled(key, installed);
  }

  async recordJobResults(jobId: string, results: readonly ServerResult[], _expiresAt?: Date) {
    const items = this.jobs.get(jobId) ?? new Map<string, ServerResult>();
    for (const r of results) items.set(r.instanceId, clone(r));
    this.jobs.set(jobId, items);
  }

  async listJobResults(jobId: string, limit: number, cursor?: string): Promise<Page<ServerResult>> {
    const all = [...(this.jobs.get(jobId)?.values() ?? [])].sort((a, b) =>
      a.instanceId.localeCompare(b.instanceId),
    );
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(start) || start < 0) {
      throw new TerminalError('InvalidCursor', 'cursor is not one this service returned');
    }
    const items = all.slice(start, start + limit);
    return {
      items: clone(items),
      ...(start + limit < all.length ? { cursor: String(start + limit) } : {}),
    };
  }

  /** Every result of a job, by instance id (for assertions). */
  results(jobId: string): ServerResult[] {
    return clone(
      [...(this.jobs.get(jobId)?.values() ?? [])].sort((a, b) =>
        a.instanceId.localeCompare(b.instanceId),
      ),
    );
  }

  async installed(key: MappingKey) {
    this.installedReads += 1;
    return clone(
      [...(this.mappings.get(InMemoryMappingStore.keyString(key))?.values() ?? [])].sort((a, b) =>
        a.instanceId.localeCompare(b.instanceId),
      ),
    );
  }

  async recordInstalled(key: MappingKey, servers: readonly InstalledServer[]) {
    const k = InMemoryMappingStore.keyString(key);
    const items = this.mappings.get(k) ?? new Map<string, InstalledServer>();
    for (const s of servers) items.set(s.instanceId, clone(s));
    this.mappings.set(k, items);
  }

  async forgetMapping(key: MappingKey) {
    this.mappings.delete(InMemoryMappingStore.keyString(key));
  }
}
