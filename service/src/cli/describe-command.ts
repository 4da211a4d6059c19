import type { Command } from 'commander';
import type { CertificateItem, DeploymentView } from '../api/schemas.ts';
import { type ApiClient, pages } from './api-client.ts';
import { displaySerial, shortId, type TimeFormat } from './display.ts';
import { CliError } from './errors.ts';
import { formatHistory, formatServer } from './format.ts';
import { certificateDeployments } from './history-command.ts';
import { positiveNumber } from './options.ts';

/** What the command needs of the CLI: an API client, stdout, times, and the short ids' memory. */
export interface DescribeContext {
  client(): ApiClient;
  out(text: string): void;
  time(): TimeFormat;
  jobIds(client: ApiClient): { remember(ids: readonly string[]): Promise<void> };
}

type ServerResult = NonNullable<DeploymentView['servers']>[number];

/** One mapping of the certificate, with the per-server results of its last job. */
export interface DescribedMapping extends CertificateItem {
  /** The first page of the last job's per-server results (absent without a last job). */
  readonly lastJobServers?: ServerResult[];
  /** More servers than shown: GET /v1/deployments/{lastJobId}/servers pages on from here. */
  readonly lastJobServersNextCursor?: string;
}

/** What `describe --json` prints. */
export interface Description {
  readonly certificateArn: string;
  readonly mappings: DescribedMapping[];
  readonly deployments: DeploymentView[];
}

interface DescribeOptions {
  readonly deployments: number;
  readonly json?: boolean;
}

const serversShown = 100;

/**
 * Reads what the API knows of one certificate: its mappings (every page of GET /v1/certificates,
 * kept when the ARN is this one: the API has no per-certificate listing of mappings), the
 * per-server results of each mapping's last job (GET /v1/deployments/{id}/servers, first page),
 * and its newest deployments (GET /v1/certificates/{arn}/deployments).
 */
export async function describeCertificate(
  client: ApiClient,
  certificateArn: string,
  deployments: number,
): Promise<Description> {
  const items: CertificateItem[] = [];
  for await (const item of pages<CertificateItem>(client, '/v1/certificates')) {
    if (item.certificateArn === certificateArn) items.push(item);
  }
  const mappings: DescribedMapping[] = [];
  for (const item of items) {
    if (item.lastJobId === undefined) {
      mappings.push(item);
      continue;
    }
    try {
      const { body } = await client.request<{ items: ServerResult[]; nextCursor?: string }>(
        'GET',
        `/v1/deployments/${encodeURIComponent(item.lastJobId)}/servers?limit=${serversShown}`,
      );
      mappings.push({
        ...item,
        lastJobServers: body.items,
        ...(body.nextCursor === undefined ? {} : { lastJobServersNextCursor: body.nextCursor }),
      });
    } catch (error) {
      // A job record past its retention: the mapping is still worth showing.
      if (error instanceof CliError && error.code === 'DEPLOYMENT_NOT_FOUND') {
        mappings.push(item);
        continue;
      }
      throw error;
    }
  }
  const recent = await certificateDeployments(client, certificateArn, deployments);
  return { certificateArn, mappings, deployments: recent.items };
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
    const servers = m.lastJobServers ?? [];
    if (servers.length > 0 && m.lastJobId !== undefined) {
      const more =
        m.lastJobServersNextCursor === undefined
          ? ''
          : `; first ${servers.length}, acm-cert-export status ${shortId(m.lastJobId)} for the job`;
      lines.push(`    servers of job ${shortId(m.lastJobId)} (${servers.length}${more}):`);
      for (const s of servers) lines.push(`  ${formatServer(s)}`);
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
    .option('--json', 'print JSON: {certificateArn, mappings (with lastJobServers), deployments}')
    .addHelpText(
      'after',
      [
        '',
        'Servers are those the last job of each mapping reached, with what the install script reported.',
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
        ]);
      cli.out(o.json === true ? JSON.stringify(d, null, 2) : formatDescription(d, cli.time()));
    });
}
