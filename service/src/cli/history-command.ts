import type { Command } from 'commander';
import type { DeploymentView } from '../api/schemas.ts';
import type { ApiClient } from './api-client.ts';
import type { TimeFormat } from './display.ts';
import { formatHistory } from './format.ts';
import { positiveNumber } from './options.ts';

/** What the command needs of the CLI: an API client, stdout, times, and the short ids' memory. */
export interface HistoryContext {
  client(): ApiClient;
  out(text: string): void;
  time(): TimeFormat;
  jobIds(client: ApiClient): { remember(ids: readonly string[]): Promise<void> };
}

interface HistoryOptions {
  readonly limit: number;
  readonly json?: boolean;
}

/** The newest `limit` deployments of a certificate (GET /v1/certificates/{arn}/deployments, paged). */
export async function certificateDeployments(
  client: ApiClient,
  certificateArn: string,
  limit: number,
): Promise<{ items: DeploymentView[]; more: boolean }> {
  const items: DeploymentView[] = [];
  let cursor: string | undefined;
  do {
    const page = Math.min(100, limit - items.length);
    const query = `?limit=${page}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const { body } = await client.request<{ items: DeploymentView[]; nextCursor?: string }>(
      'GET',
      `/v1/certificates/${encodeURIComponent(certificateArn)}/deployments${query}`,
    );
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor !== undefined && items.length < limit);
  return { items: items.slice(0, limit), more: cursor !== undefined };
}

/** `acm-cert-export history <certificate-arn>`: its deployments, newest first. */
export function addHistoryCommand(program: Command, cli: HistoryContext): void {
  program
    .command('history')
    .description('List a certificate’s deployments on every target, newest first')
    .argument('<certificate-arn>', 'ACM certificate ARN')
    .option(
      '--limit <jobs>',
      'show at most this many (default 20; the API pages through them)',
      positiveNumber('--limit'),
      20,
    )
    .option('--json', 'print JSON (one array, the API’s deployment views)')
    .addHelpText(
      'after',
      [
        '',
        'Job ids show as their first 8 hex digits; status, cancel and describe take them back.',
        '',
        'Example:',
        '  acm-cert-export history arn:aws:acm:eu-west-1:123456789012:certificate/… --limit 5',
      ].join('\n'),
    )
    .action(async (certificateArn: string, o: HistoryOptions) => {
      const client = cli.client();
      const { items, more } = await certificateDeployments(
        client,
        certificateArn,
        Math.floor(o.limit),
      );
      await cli.jobIds(client).remember(items.map((d) => d.jobId));
      if (o.json === true) {
        cli.out(JSON.stringify(items, null, 2));
        return;
      }
      const rest = more ? `\n(older deployments not shown: --limit ${items.length * 2})` : '';
      cli.out(`${formatHistory(items, cli.time())}${rest}`);
    });
}
