import type { Command } from 'commander';
import type { CertificateItem } from '../api/schemas.ts';
import { type ApiClient, pages } from './api-client.ts';
import type { TimeFormat } from './display.ts';
import { formatCertificates } from './format.ts';

/** What the command needs of the CLI: an API client and stdout. */
export interface ListContext {
  client(): ApiClient;
  out(text: string): void;
  time(): TimeFormat;
  jobIds(client: ApiClient): { remember(ids: readonly string[]): Promise<void> };
}

/** `acm-cert-export list`: every page of GET /v1/certificates. */
export function addListCommand(program: Command, cli: ListContext): void {
  program
    .command('list')
    .description(
      'List managed certificates: target, name, days to expiry, last outcome and job, servers converged',
    )
    .option('--json', 'print JSON (all pages as one array)')
    .action(async (o: { json?: boolean }) => {
      const client = cli.client();
      const items: CertificateItem[] = [];
      for await (const item of pages<CertificateItem>(client, '/v1/certificates')) items.push(item);
      await cli
        .jobIds(client)
        .remember(items.flatMap((i) => (i.lastJobId === undefined ? [] : [i.lastJobId])));
      cli.out(o.json ? JSON.stringify(items, null, 2) : formatCertificates(items, cli.time()));
    });
}
