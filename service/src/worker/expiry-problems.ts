import type { InstalledServer } from '../domain/installed-server.ts';
import type { Mapping } from '../domain/mapping.ts';
import { sameSerial } from './certificate-info.ts';

const dayMs = 86_400_000;
const hourMs = 3_600_000;

/**
 * Whole days from `now` until `notAfter` (negative once expired): "expires in fewer than 14
 * days" is `days < 14`. Undefined when there is no installed copy or its date cannot be read.
 */
export function daysToExpiry(notAfter: string | undefined, now: Date): number | undefined {
  if (notAfter === undefined) return undefined;
  const at = Date.parse(notAfter);
  return Number.isNaN(at) ? undefined : Math.floor((at - now.getTime()) / dayMs);
}

/** When the expiry check speaks up (EXPIRY_NOTIFY_DAYS, RENEWAL_GRACE_HOURS). */
export interface ExpiryThresholds {
  /** A copy expiring in fewer days than this is a problem (the expiry alarm's threshold too). */
  readonly expiryDays: number;
  /** A server still on an older serial this long after the export missed the renewal. */
  readonly renewalGraceHours: number;
}

/** A server whose installed copy expires soon, or has expired. */
export interface ExpiringServer {
  readonly server: InstalledServer;
  readonly daysToExpiry: number;
}

/** What the check finds for one mapping. Holds no secret. */
export interface MappingProblems {
  /**
   * The fewest days until a copy of this mapping expires: the copy its last deployment recorded,
   * and each server's. Undefined when none is known (never deployed).
   */
  readonly daysToExpiry?: number;
  /** The server holding that soonest copy, when a server's copy is the soonest. */
  readonly soonestServer?: string;
  /** Servers whose copy expires in fewer than `expiryDays` days (or expired), soonest first. */
  readonly expiring: readonly ExpiringServer[];
  /**
   * The copy the mapping's last deployment recorded expires in fewer than `expiryDays` days and
   * no server item shows it (deployed before per-server items were kept, or no server of the
   * tag is left): its days are `recordDaysToExpiry`.
   */
  readonly recordExpiring: boolean;
  readonly recordDaysToExpiry?: number;
  /**
   * Servers still holding a serial other than the mapping's, `renewalGraceHours` or more after
   * that serial was exported: they missed the renewal. Sorted by instance id.
   */
  readonly behind: readonly InstalledServer[];
  /** Whole hours since the mapping's serial was exported (when known). */
  readonly hoursSinceExport?: number;
}

/**
 * One mapping's problems, from its record and what each of its servers holds (a pure function of
 * its inputs and the clock). Servers that hold no serial yet (every install on them failed) are
 * not "behind": the deployment outcomes and their alarms report those.
 */
export function assessMapping(
  m: Mapping,
  servers: readonly InstalledServer[],
  now: Date,
  t: ExpiryThresholds,
): MappingProblems {
  const recordDays = daysToExpiry(m.notAfter, now);
  let soonest: { days: number; server?: string } | undefined =
    recordDays === undefined ? undefined : { days: recordDays };
  const expiring: ExpiringServer[] = [];
  for (const server of servers) {
    const days = daysToExpiry(server.notAfter, now);
    if (days === undefined) continue;
    if (soonest === undefined || days < soonest.days) soonest = { days, server: server.instanceId };
    if (days < t.expiryDays) expiring.push({ server, daysToExpiry: days });
  }
  expiring.sort(
    (a, b) =>
      a.daysToExpiry - b.daysToExpiry || a.server.instanceId.localeCompare(b.server.instanceId),
  );
  const exportedAt = m.lastExportedAt === undefined ? Number.NaN : Date.parse(m.lastExportedAt);
  const hoursSinceExport = Number.isNaN(exportedAt)
    ? undefined
    : Math.floor((now.getTime() - exportedAt) / hourMs);
  const current = m.serial;
  const behind =
    current === undefined ||
    hoursSinceExport === undefined ||
    hoursSinceExport < t.renewalGraceHours
      ? []
      : servers
          .filter((s) => s.serial !== undefined && !sameSerial(s.serial, current))
          .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  return {
    ...(soonest === undefined ? {} : { daysToExpiry: soonest.days }),
    ...(soonest?.server === undefined ? {} : { soonestServer: soonest.server }),
    expiring,
    recordExpiring: expiring.length === 0 && recordDays !== undefined && recordDays < t.expiryDays,
    ...(recordDays === undefined ? {} : { recordDaysToExpiry: recordDays }),
    behind,
    ...(hoursSinceExport === undefined ? {} : { hoursSinceExport }),
  };
}

/** Whether the mapping needs a notification. */
export function hasProblems(p: MappingProblems): boolean {
  return p.expiring.length > 0 || p.recordExpiring || p.behind.length > 0;
}

/** Whether a problem names servers (which may no longer be there: worth asking Run Command). */
export function namesServers(p: MappingProblems): boolean {
  return p.expiring.length > 0 || p.behind.length > 0;
}
