import type {
  CertificateItem,
  DeploymentPlanView,
  DeploymentView,
  JobAccepted,
} from '../api/schemas.ts';
import { displaySerial, shortId, type TimeFormat } from './display.ts';

/**
 * Human-readable output: times through one `TimeFormat` (local time with the offset), job ids
 * short (8 characters), serials as ACM shows them (display.ts). Scripts use `--json`, which
 * prints the API's JSON unchanged.
 */

export function formatAccepted(accepted: JobAccepted, baseUrl: string): string {
  const url = new URL(accepted.statusUrl, baseUrl).toString();
  const id = shortId(accepted.jobId);
  return `Job ${id} ${accepted.status}\n  status: ${url}\n  follow: acm-cert-export status ${id} --wait`;
}

type ServerView = NonNullable<DeploymentView['servers']>[number];

/** A table: columns padded to their widest cell, the last one not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The install script's summary of one server, its serial in the one display format. */
export function serverOutcome(s: ServerView): string {
  const summary = s.summary;
  if (s.error !== undefined) return s.error;
  if (summary === undefined) return s.statusDetails;
  const serial = summary.serial === null ? undefined : displaySerial(summary.serial);
  // The script's message names the serial as openssl prints it: shown the same way here.
  const message =
    summary.message === undefined || summary.serial === null || serial === undefined
      ? summary.message
      : summary.message.split(summary.serial).join(serial);
  return [
    summary.outcome,
    serial === undefined ? undefined : `serial ${serial}`,
    summary.reloaded ? 'reloaded' : undefined,
    message,
  ]
    .filter((x) => x !== undefined)
    .join(', ');
}

function serverLine(s: ServerView): string {
  return `  ${s.instanceId.padEnd(20)} ${s.status.padEnd(10)} ${serverOutcome(s)}`;
}

export function formatDeployment(d: DeploymentView, time: TimeFormat): string {
  const lines = [
    `Job ${shortId(d.jobId)}  ${d.status}`,
    `  id           ${d.jobId}`,
    `  certificate  ${d.certificateArn} as ${d.certName}`,
    `  target       ${d.target.key}=${d.target.value}`,
    `  requested    ${time(d.createdAt)} by ${d.requester ?? 'unknown'} (${d.trigger})`,
  ];
  if (d.finishedAt !== undefined) lines.push(`  finished     ${time(d.finishedAt)}`);
  if (d.reason !== undefined) lines.push(`  reason       ${d.reason}`);
  if (d.cancelRequest !== undefined) {
    lines.push(`  cancel       requested by ${d.cancelRequest.by} at ${time(d.cancelRequest.at)}`);
  }
  if (d.certificate !== undefined) {
    lines.push(
      `  exported     serial ${displaySerial(d.certificate.serial)}, valid until ${time(d.certificate.notAfter)}`,
    );
  }
  if (d.commandId !== undefined) lines.push(`  command      ${d.commandId}`);
  if (d.counts !== undefined) {
    lines.push(
      d.counts.succeeded === undefined
        ? `  progress     ${d.counts.completed}/${d.counts.target} servers done, ${d.counts.errors} failed`
        : `  servers      ${d.counts.succeeded} succeeded, ${d.counts.failed ?? 0} failed`,
    );
  }
  const servers = d.servers ?? [];
  if (servers.length > 0) {
    const total = (d.counts?.succeeded ?? 0) + (d.counts?.failed ?? 0);
    lines.push(
      d.serversNextCursor === undefined
        ? `  servers (${servers.length}):`
        : `  servers (first ${servers.length} of ${total || 'more'}; GET /v1/deployments/${d.jobId}/servers for the rest):`,
    );
    for (const s of servers) lines.push(serverLine(s));
  }
  return lines.join('\n');
}

/** `3/10 servers done, 1 failed`, or '' before the job knows its servers. */
export function countsText(d: DeploymentView): string {
  return d.counts === undefined
    ? ''
    : `${d.counts.completed}/${d.counts.target} servers done, ${d.counts.errors} failed`;
}

/**
 * The lines worth printing when a deployment moved from `before` to `after`: its status, and
 * each server whose status changed.
 */
export function progressLines(
  before: DeploymentView | undefined,
  after: DeploymentView,
  at: Date,
  time: TimeFormat,
): string[] {
  const lines: string[] = [];
  const counts = countsText(after);
  if (
    before === undefined ||
    before.status !== after.status ||
    JSON.stringify(before.counts) !== JSON.stringify(after.counts)
  ) {
    lines.push(`[${time(at)}] ${after.status}${counts === '' ? '' : `  ${counts}`}`);
  }
  const previous = new Map((before?.servers ?? []).map((s) => [s.instanceId, s.status]));
  for (const s of after.servers ?? []) {
    if (previous.get(s.instanceId) !== s.status) lines.push(serverLine(s));
  }
  return lines;
}

export function formatCertificates(items: readonly CertificateItem[], time: TimeFormat): string {
  if (items.length === 0) return 'No managed certificates.';
  const rows = items.map((c) => [
    `${c.target.key}=${c.target.value}`,
    c.certName,
    c.daysToExpiry === null ? '-' : String(c.daysToExpiry),
    c.notAfter === undefined ? '-' : time(c.notAfter),
    c.lastOutcome ?? '-',
    c.lastJobId === undefined ? '-' : shortId(c.lastJobId),
    c.servers === undefined ? '-' : `${c.servers.converged}/${c.servers.total}`,
    c.certificateArn,
  ]);
  return table(
    ['TARGET', 'NAME', 'DAYS', 'NOT AFTER', 'LAST OUTCOME', 'LAST JOB', 'SERVERS', 'CERTIFICATE'],
    rows,
  );
}

/** `deploy --dry-run`: what a deployment would do, server by server. */
export function formatPlan(plan: DeploymentPlanView, time: TimeFormat): string {
  const c = plan.certificate;
  const lines = [
    `Dry run: ${plan.certName} of ${c.arn} on ${plan.target.key}=${plan.target.value} (nothing was changed)`,
    `  certificate  ${c.status}, ${c.type}, ${c.exportable ? 'exportable' : 'not exportable'}${c.serial === undefined ? '' : `, serial ${displaySerial(c.serial)}`}${c.notAfter === undefined ? '' : `, valid until ${time(c.notAfter)}`}`,
    `  would deploy ${plan.wouldDeploy ? 'yes' : 'no'}`,
    `  servers (${plan.servers.length}):`,
  ];
  for (const s of plan.servers) {
    const agent = s.agentVersion === undefined ? 'agent ?' : `agent ${s.agentVersion}`;
    const holds =
      s.installedSerial === undefined
        ? 'holds nothing of ours'
        : `holds ${displaySerial(s.installedSerial)}`;
    lines.push(
      `  ${s.instanceId.padEnd(20)} ${s.pingStatus.padEnd(14)} ${agent.padEnd(18)} ${holds.padEnd(24)} ${s.wouldInstall ? 'would install' : 'would NOT install'}`,
    );
  }
  if (plan.problems.length > 0) {
    lines.push('  problems:');
    for (const p of plan.problems) lines.push(`    - ${p}`);
  }
  return lines.join('\n');
}

/** `done/total` servers of a job: its result counts once it ended, its progress before. */
function serversOf(d: DeploymentView): string {
  const c = d.counts;
  if (c === undefined) return '-';
  if (c.succeeded !== undefined) return `${c.succeeded}/${c.succeeded + (c.failed ?? 0)} ok`;
  return `${c.completed}/${c.target} done`;
}

/** Deployments as a table, in the order given (the API's: newest first). */
export function formatHistory(items: readonly DeploymentView[], time: TimeFormat): string {
  if (items.length === 0) return 'No deployments.';
  return table(
    ['JOB', 'STATUS', 'REQUESTED', 'TRIGGER', 'TARGET', 'NAME', 'SERVERS', 'SERIAL'],
    items.map((d) => [
      shortId(d.jobId),
      d.status,
      time(d.createdAt),
      d.trigger,
      `${d.target.key}=${d.target.value}`,
      d.certName,
      serversOf(d),
      d.certificate === undefined ? '-' : displaySerial(d.certificate.serial),
    ]),
  );
}
