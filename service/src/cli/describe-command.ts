import type { Command } from 'commander';
import type {
  CertificateItem,
  CertificateTarget,
  DeploymentView,
  InstalledServerView,
} from '../api/schemas.ts';
import { sameSerial } from '../domain/serial.ts';
import type { ApiClient } from './api-client.ts';
import { displaySerial, shortId, type TimeFormat } from './display.ts';
import { CliError } from './errors.ts';
import { formatHistory, table } from './format.ts';
import { certificateDeployments } from './history-command.ts';
import { positiveNumber } from './options.ts';

/** What the command needs of the CLI: an API client, stdout, times, and the short ids' memory. */
export interface DescribeContext {
  client(): ApiClient;
  out(text: string): void;
  time(): TimeFormat;
  jobIds(client: ApiClient): { remember(ids: readonly string[]): Promise<void> };
}

/** What `describe --json` prints. */
export interface Description {
  readonly certificateArn: string;
  /** GET /v1/certificates/{arn}/targets: each mapping with what its servers hold. */
  readonly mappings: CertificateTarget[];
  readonly deployments: DeploymentView[];
}

interface DescribeOptions {
  readonly deployments: number;
  readonly json?: boolean;
}

/**
 * Reads what the API knows of one certificate: its mappings with each server's state
 * (GET /v1/certificates/{arn}/targets: the table's certificate index, one servers read per
 * mapping) and its newest deployments (GET /v1/certificates/{arn}/deployments).
 */
export async function describeCertificate(
  client: ApiClient,
  certificateArn: string,
  deployments: number,
): Promise<Description> {
  const { body } = await client.request<{ items: CertificateTarget[] }>(
    'GET',
    `/v1/certificates/${encodeURIComponent(certificateArn)}/targets`,
  );
  const recent = await certificateDeployments(client, certificateArn, deployments);
  return { certificateArn, mappings: body.items, deployments: recent.items };
}

/** Why a server is or is not where the mapping wants it. */
function serverState(s: InstalledServerView, serial: string | undefined): string {
  if (s.converged) return 'converged';
  if ((s.problems ?? []).length > 0) return `drift: ${(s.problems ?? []).join(', ')}`;
  if (s.lastStatus !== 'Success') return 'last install failed';
  if (s.serial === undefined || serial === undefined || !sameSerial(s.serial, serial)) {
    return 'behind';
  }
  return '-';
}

function installText(install: CertificateItem['install']): string {
  const entries = Object.entries(install).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return 'the defaults';
  return entries.map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(', ');
}

function expiry(m: CertificateItem, time: TimeFormat): string {
  if (m.notAfter === undefined) return 'not exported yet';
  const days = m.daysToExpiry;
  const left =
    days === null ? '' : days < 0 ? ` (expired ${-days} days ago)` : ` (in ${days} days)`;
  return `${time(m.notAfter)}${left}`;
}

/** `describe`'s human output. */
export function formatDescription(d: Description, time: TimeFormat): string {
  const lines = [`Certificate ${d.certificateArn}`];
  lines.push(
    d.mappings.length === 0
      ? '  not managed on any target'
      : `  managed on ${d.mappings.length} target${d.mappings.length === 1 ? '' : 's'}:`,
  );
  for (const m of d.mappings) {
    lines.push('', `  ${m.certName} on ${m.target.key}=${m.target.value}`);
    lines.push(`    install       ${installText(m.install)}`);
    lines.push(`    serial        ${m.serial === undefined ? '-' : displaySerial(m.serial)}`);
    lines.push(`    expires       ${expiry(m, time)}`);
    if (m.lastOutcome !== undefined) {
      const at = m.lastOutcomeAt === undefined ? '' : ` at ${time(m.lastOutcomeAt)}`;
      const job = m.lastJobId === undefined ? '' : `, job ${shortId(m.lastJobId)}`;
      lines.push(`    last outcome  ${m.lastOutcome}${at}${job}`);
    }
    if (m.servers !== undefined) {
      lines.push(`    servers       ${m.servers.converged}/${m.servers.total} converged`);
    }
    if (m.rolloutHalted !== undefined) lines.push(`    halted        ${m.rolloutHalted}`);
    if (m.installedServers.length > 0) {
      const rows = m.installedServers.map((x) => [
        x.instanceId,
        x.serial === undefined ? '-' : displaySerial(x.serial),
        x.lastStatus,
        x.lastOutcome ?? '-',
        serverState(x, m.serial),
        shortId(x.lastJobId),
      ]);
      const lines2 = table(
        ['SERVER', 'SERIAL', 'LAST STATUS', 'OUTCOME', 'STATE', 'LAST JOB'],
        rows,
      );
      for (const line of lines2.split('\n')) lines.push(`      ${line}`);
    }
  }
  lines.push('', `  last deployments (${d.deployments.length}):`);
  if (d.deployments.length > 0) {
    for (const line of formatHistory(d.deployments, time).split('\n')) lines.push(`    ${line}`);
  }
  return lines.join('\n');
}

/** `acm-cert-export describe <certificate-arn>`: its mappings, servers and last deployments. */
export function addDescribeCommand(program: Command, cli: DescribeContext): void {
  program
    .command('describe')
    .description(
      'Show a certificate: each target it is managed on (install options, serial, expiry, last outcome, servers) and its last deployments',
    )
    .argument('<certificate-arn>', 'ACM certificate ARN')
    .option(
      '--deployments <jobs>',
      'how many of its last deployments to show (default 5)',
      positiveNumber('--deployments'),
      5,
    )
    .option('--json', 'print JSON: {certificateArn, mappings (with installedServers), deployments}')
    .addHelpText(
      'after',
      [
        '',
        'Servers are those the jobs of each mapping reached, with what each holds as its last job recorded.',
        'A certificate neither managed nor ever deployed exits 1.',
      ].join('\n'),
    )
    .action(async (certificateArn: string, o: DescribeOptions) => {
      const client = cli.client();
      const d = await describeCertificate(client, certificateArn, Math.floor(o.deployments));
      if (d.mappings.length === 0 && d.deployments.length === 0) {
        throw new CliError(
          `${certificateArn} is not managed on any target and was never deployed (acm-cert-export list shows the managed ones)`,
        );
      }
      await cli
        .jobIds(client)
        .remember([
          ...d.deployments.map((x) => x.jobId),
          ...d.mappings.flatMap((m) => (m.lastJobId === undefined ? [] : [m.lastJobId])),
          ...d.mappings.flatMap((m) => m.installedServers.map((x) => x.lastJobId)),
        ]);
      cli.out(o.json === true ? JSON.stringify(d, null, 2) : formatDescription(d, cli.time()));
    });
}
