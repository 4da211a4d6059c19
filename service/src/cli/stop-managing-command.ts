import type { Command } from 'commander';
import type { ApiClient } from './api-client.ts';
import { parseTarget } from './target-option.ts';

/** What the command needs of the CLI: an API client and stdout. */
export interface StopManagingContext {
  client(): ApiClient;
  out(text: string): void;
}

interface StopManagingOptions {
  readonly certArn: string;
  readonly name: string;
  readonly target: string;
  readonly json?: boolean;
}

/** `acm-cert-export stop-managing`: DELETE /v1/certificates/{arn}/targets/{key}/{value}/{name}. */
export function addStopManagingCommand(program: Command, cli: StopManagingContext): void {
  program
    .command('stop-managing')
    .description(
      'Stop deploying a certificate to a target (its passphrase secret is scheduled for deletion)',
    )
    .requiredOption('--cert-arn <arn>', 'ACM certificate ARN')
    .requiredOption('--name <name>', 'certificate name')
    .requiredOption('--target <key=value>', 'tag of the servers')
    .option('--json', 'print JSON')
    .action(async (o: StopManagingOptions) => {
      const t = parseTarget(o.target);
      const path = ['/v1/certificates', o.certArn, 'targets', t.key, t.value, o.name]
        .map((p, i) => (i === 0 ? p : encodeURIComponent(p)))
        .join('/');
      const { body } = await cli.client().request<Record<string, unknown>>('DELETE', path);
      cli.out(
        o.json
          ? JSON.stringify(body, null, 2)
          : `No longer managing ${o.name} of ${o.certArn} on ${t.key}=${t.value}; secret deletion: ${String(body.secretDeletion)}`,
      );
    });
}
