import { createHash } from 'node:crypto';
import type { InstalledServer } from '../domain/installed-server.ts';
import type { Mapping } from '../domain/mapping.ts';
import { displaySerial } from '../domain/serial.ts';
import { formatTarget } from '../domain/target.ts';
import type { Notification } from '../ports/notifier.ts';
import type { ExpiryThresholds, MappingProblems } from './expiry-problems.ts';

/** A serial in the one form people read (ACM's, `0a:1b:…`), whichever form it was recorded in. */
const shown = (serial: string | undefined) =>
  serial === undefined ? 'unknown' : displaySerial(serial);

/** Servers listed per problem; the rest are counted. */
export const listedServersAtMost = 20;
/** SNS: "must be less than 100 characters". */
const subjectMaxLength = 99;

/** What the check knew besides the mapping and its problems. */
export interface NotificationContext {
  readonly thresholds: ExpiryThresholds;
  readonly checkedAt: Date;
  /** Names this run of the check: a retry of the run gives each notification the same id. */
  readonly runId: string;
  /** Whether Run Command's managed-node inventory was read to leave out servers that are gone. */
  readonly inventory: 'read' | 'not-needed' | 'unavailable';
  /** Servers recorded for the mapping that no longer are managed nodes carrying its tag. */
  readonly leftOut: number;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function whenExpires(days: number): string {
  // Whole days are floored: -1 is "expired less than a day ago".
  if (days === -1) return 'expired within the last day';
  if (days < 0) return `expired ${plural(-days, 'day')} ago`;
  if (days === 0) return 'expires within a day';
  return `expires in ${plural(days, 'day')}`;
}

/** Hours for the first two days, then whole days. */
function since(hours: number): string {
  return hours < 48 ? plural(hours, 'hour') : plural(Math.floor(hours / 24), 'day');
}

/** SNS subjects: ASCII without control characters, fewer than 100 characters. */
function subjectLine(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= subjectMaxLength ? ascii : `${ascii.slice(0, subjectMaxLength - 3)}...`;
}

function kinds(p: MappingProblems): string[] {
  return [
    ...(p.expiring.length > 0 || p.recordExpiring ? ['expiring'] : []),
    ...(p.behind.length > 0 ? ['behind'] : []),
  ];
}

function soonestDays(p: MappingProblems): number | undefined {
  return p.expiring[0]?.daysToExpiry ?? (p.recordExpiring ? p.recordDaysToExpiry : undefined);
}

function lastJob(s: InstalledServer): string {
  return `last job ${s.lastJobId} (${s.lastStatus}${s.lastOutcome === undefined ? '' : `, ${s.lastOutcome}`})`;
}

function capped<T>(items: readonly T[], line: (item: T) => string): string[] {
  const shown = items.slice(0, listedServersAtMost).map((i) => `  ${line(i)}`);
  const more = items.length - shown.length;
  return more > 0 ? [...shown, `  ... and ${plural(more, 'more server')}`] : shown;
}

function expiringSection(m: Mapping, p: MappingProblems, t: ExpiryThresholds): string[] {
  if (p.expiring.length > 0) {
    return [
      `EXPIRING: the copy installed on ${plural(p.expiring.length, 'server')} expires in fewer than ${plural(t.expiryDays, 'day')}:`,
      ...capped(
        p.expiring,
        (e) =>
          `${e.server.instanceId}: ${whenExpires(e.daysToExpiry)} (not after ${e.server.notAfter}), serial ${shown(e.server.serial)}, ${lastJob(e.server)}`,
      ),
    ];
  }
  if (!p.recordExpiring || p.recordDaysToExpiry === undefined) return [];
  return [
    `EXPIRING: the copy this mapping's last deployment installed (serial ${shown(m.serial)}) ${whenExpires(p.recordDaysToExpiry)} (not after ${m.notAfter}).`,
    '  No server carrying the tag records it: it was deployed before per-server records were kept, or no server of the target is left.',
  ];
}

function behindSection(m: Mapping, p: MappingProblems): string[] {
  if (p.behind.length === 0) return [];
  return [
    `MISSED THE RENEWAL: serial ${shown(m.serial)} was exported ${since(p.hoursSinceExport ?? 0)} ago (${m.lastExportedAt}); ${plural(p.behind.length, 'server')} still ${p.behind.length === 1 ? 'holds' : 'hold'} an older serial:`,
    ...capped(p.behind, (s) => `${s.instanceId}: serial ${shown(s.serial)}, ${lastJob(s)}`),
  ];
}

function whatToDo(m: Mapping, p: MappingProblems): string[] {
  const target = formatTarget(m.target);
  const reconcile = `acm-cert-export reconcile --cert-arn ${m.certificateArn} --name ${m.certName} --target ${target}`;
  const lines = ['What to do:'];
  if (p.expiring.length > 0 || p.recordExpiring) {
    lines.push(
      `- Expiring: look at the certificate in ACM (aws acm describe-certificate --certificate-arn ${m.certificateArn}: Status, NotAfter, RenewalSummary). If ACM renewed it, the reconciliation sweep deploys the new certificate; to do it now: ${reconcile}. If ACM did not renew it, fix the renewal first (domain validation, the Private CA's permissions).`,
    );
  }
  if (p.behind.length > 0) {
    lines.push(
      `- Missed the renewal: the reconciliation sweep installs the current certificate on servers that do not hold it, and tries again after a failure; to do it now: ${reconcile}. If a server stays behind, check its SSM Agent (aws ssm describe-instance-information --filters Key=InstanceIds,Values=<instance id>) and its last job (acm-cert-export status <job id>).`,
    );
  }
  return lines;
}

function inventoryNote(c: NotificationContext): string[] {
  if (c.inventory === 'unavailable') {
    return [
      "Run Command's managed-node inventory could not be read: servers that no longer carry the tag may be listed.",
    ];
  }
  if (c.leftOut === 0) return [];
  return [
    `${plural(c.leftOut, 'server')} recorded for this mapping ${c.leftOut === 1 ? 'is' : 'are'} no longer a managed node carrying the tag (stopped, terminated or retagged) and left out.`,
  ];
}

/**
 * The one notification of a mapping with problems: subject, a plain-text message naming the
 * certificate, the mapping, the servers (at most `listedServersAtMost` per problem, then a count),
 * the days and what to do, and attributes to filter on (`kind` is a String.Array of `expiring`
 * and `behind`). `notificationId` is the same for a retry of the same run, so a subscriber can
 * drop a message it already had. Nothing secret: ARNs, names, serials, instance and job ids.
 */
export function expiryNotification(
  m: Mapping,
  p: MappingProblems,
  c: NotificationContext,
): Notification {
  const target = formatTarget(m.target);
  const kind = kinds(p);
  const days = soonestDays(p);
  const phrases: string[] = [];
  if (days !== undefined) {
    phrases.push(
      p.expiring.length > 0
        ? `${whenExpires(days)} on ${plural(p.expiring.length, 'server')}`
        : whenExpires(days),
    );
  }
  if (p.behind.length > 0) {
    phrases.push(`${plural(p.behind.length, 'server')} missed the renewal`);
  }
  const servers = new Set([
    ...p.expiring.map((e) => e.server.instanceId),
    ...p.behind.map((s) => s.instanceId),
  ]);
  const deployed =
    m.serial === undefined
      ? 'never'
      : `serial ${shown(m.serial)}${m.lastExportedAt === undefined ? '' : `, exported ${m.lastExportedAt}`}${m.notAfter === undefined ? '' : `, not after ${m.notAfter}`}`;
  const sections = [expiringSection(m, p, c.thresholds), behindSection(m, p)].filter(
    (s) => s.length > 0,
  );
  const message = [
    `A certificate acm-cert-export manages needs attention (expiry check of ${c.checkedAt.toISOString()}).`,
    '',
    `Certificate: ${m.certificateArn}`,
    `Name:        ${m.certName}`,
    `Target:      ${target} (the servers carrying this tag)`,
    `Deployed:    ${deployed}`,
    ...(m.lastJobId === undefined
      ? []
      : [`Last job:    ${m.lastJobId}${m.lastOutcome === undefined ? '' : ` (${m.lastOutcome})`}`]),
    '',
    ...sections.flatMap((s) => [...s, '']),
    ...inventoryNote(c).flatMap((s) => [s, '']),
    ...whatToDo(m, p),
  ].join('\n');
  const id = createHash('sha256')
    .update([c.runId, m.certificateArn, m.certName, target, kind.join(',')].join('\n'))
    .digest('hex')
    .slice(0, 32);
  return {
    subject: subjectLine(`acm-cert-export: ${phrases.join(', ')} - ${m.certName} (${target})`),
    message,
    attributes: {
      kind,
      certificateArn: m.certificateArn,
      certName: m.certName,
      target,
      servers: servers.size,
      ...(days === undefined ? {} : { minDaysToExpiry: days }),
      notificationId: id,
    },
  };
}
