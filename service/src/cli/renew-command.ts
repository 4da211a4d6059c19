import type { Command } from 'commander';
import type { CliEnvironment } from './cli-context.ts';
import { CliError } from './errors.ts';
import { renewalEvent } from './renewal-event.ts';

/** What the command needs of the CLI: the environment (SQS, clock), the region and stdout. */
export interface RenewContext {
  env(): CliEnvironment;
  region(): Promise<string>;
  out(text: string): void;
}

interface RenewOptions {
  readonly certArn: string;
  readonly queueUrl?: string;
  readonly eventId?: string;
  readonly source: string;
  readonly json?: boolean;
}

/** `acm-cert-export renew`: an ACM RENEWAL event straight on the job queue (testing). */
export function addRenewCommand(program: Command, cli: RenewContext): void {
  program
    .command('renew')
    .description(
      'Put an "ACM Certificate Available" RENEWAL event for a certificate straight on the job queue (testing)',
    )
    .requiredOption('--cert-arn <arn>', 'ACM certificate ARN')
    .option('--queue-url <url>', 'job queue URL (env ACM_CERT_EXPORT_QUEUE_URL or QUEUE_URL)')
    .option('--event-id <id>', 'event id (default: random; the same id makes the same jobs)')
    .option('--source <source>', 'event source', 'aws.acm')
    .option('--json', 'print JSON')
    .action(async (o: RenewOptions) => {
      const e = cli.env();
      const queueUrl = o.queueUrl ?? e.env.ACM_CERT_EXPORT_QUEUE_URL ?? e.env.QUEUE_URL;
      if (queueUrl === undefined || queueUrl === '') {
        throw new CliError('no queue: pass --queue-url or set ACM_CERT_EXPORT_QUEUE_URL');
      }
      const event = renewalEvent(o.certArn, {
        now: e.now(),
        source: o.source,
        ...(o.eventId === undefined ? {} : { id: o.eventId }),
      });
      const messageId = await e.sendMessage({
        queueUrl,
        body: JSON.stringify(event),
        region: await cli.region(),
      });
      cli.out(
        o.json
          ? JSON.stringify({ messageId, event }, null, 2)
          : `Renewal event ${String(event.id)} for ${o.certArn} queued (message ${messageId})`,
      );
    });
}
