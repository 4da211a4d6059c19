import type {
  CertificateItem,
  DeploymentPlanView,
  DeploymentView,
  JobAccepted,
} from '../api/schemas.ts';

/** Human-readable output. Scripts use `--json`, which prints the API's JSON unchanged. */

export function formatAccepted(accepted: JobAccepted, baseUrl: string): string {
  const url = new URL(accepted.statusUrl, baseUrl).toString();
  return `Job ${accepted.jobId} ${accepted.status}\n  status: ${url}\n  follow: acm-cert-export status ${accepted.jobId} --wait`;
}

type ServerView = NonNullable<DeploymentView['servers']>[number];

function serverLine(s: ServerView): string {
  const summary = s.summary;
  const what =
    s.error ??
    (summary === undefined
      ? s.statusDetails
      : [
          summary.outcome,
          summary.serial === null ? undefined : `serial ${summary.serial}`,
          summary.reloaded ? 'reloaded' : undefined,
          summary.message,
        ]
          .filter((x) => x !== undefined)
          .join(', '));
  return `  ${s.instanceId.padEnd(20)} ${s.status.padEnd(10)} ${what}`;
}

export function formatDeployment(d: DeploymentView): string {
  const lines = [
    `Job ${d.jobId}  ${d.status}`,
    `  certificate  ${d.certificateArn} as ${d.certName}`,
    `  target       ${d.target.key}=${d.target.value}`,
    `  requested    ${d.createdAt} by ${d.requester ?? 'unknown'} (${d.trigger})`,
  ];
  if (d.reason !== undefined) lines.push(`  reason       ${d.reason}`);
  if (d.certificate !== undefined) {
    lines.push(
      `  exported     serial ${d.certificate.serial}, valid until ${d.certificate.notAfter}`,
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

/**
 * The lines worth printing when a deployment moved from `before` to `after`: its status, and
 * each server whose status changed.
 */
export function progressLines(
  before: DeploymentView | undefined,
  after: DeploymentView,
  at: Date,
): string[] {
  const time = at.toISOString().slice(11, 19);
  const lines: string[] = [];
  const counts =
    after.counts === undefined
      ? ''
      : `  ${after.counts.completed}/${after.counts.target} servers done, ${after.counts.errors} failed`;
  if (
    before === undefined ||
    before.status !== after.status ||
    JSON.stringify(before.counts) !== JSON.stringify(after.counts)
  ) {
    lines.push(`[${time}] ${after.status}${counts}`);
  }
  const previous = new Map((before?.servers ?? []).map((s) => [s.instanceId, s.status]));
  for (const s of after.servers ?? []) {
    if (previous.get(s.instanceId) !== s.status) lines.push(serverLine(s));
  }
  return lines;
}

export function formatCertificates(items: readonly CertificateItem[]): string {
  if (items.length === 0) return 'No managed certificates.';
  const rows = items.map((c) => [
    `${c.target.key}=${c.target.value}`,
    c.certName,
    c.daysToExpiry === null ? '-' : String(c.daysToExpiry),
    c.notAfter ?? '-',
    c.lastOutcome ?? '-',
    c.certificateArn,
  ]);
  const header = ['TARGET', 'NAME', 'DAYS', 'NOT AFTER', 'LAST OUTCOME', 'CERTIFICATE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** `deploy --dry-run`: what a deployment would do, server by server. */
export function formatPlan(plan: DeploymentPlanView): string {
  const c = plan.certificate;
  const lines = [
    `Dry run: ${plan.certName} of ${c.arn} on ${plan.target.key}=${plan.target.value} (nothing was changed)`,
    `  certificate  ${c.status}, ${c.type}, ${c.exportable ? 'exportable' : 'not exportable'}${c.serial === undefined ? '' : `, serial ${c.serial}`}${c.notAfter === undefined ? '' : `, valid until ${c.notAfter}`}`,
    `  would deploy ${plan.wouldDeploy ? 'yes' : 'no'}`,
    `  servers (${plan.servers.length}):`,
  ];
  for (const s of plan.servers) {
    const agent = s.agentVersion === undefined ? 'agent ?' : `agent ${s.agentVersion}`;
    const holds =
      s.installedSerial === undefined ? 'holds nothing of ours' : `holds ${s.installedSerial}`;
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
