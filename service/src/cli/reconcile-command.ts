import type { Command } from 'commander';
import type { ReconcileAccepted, ReconcileRequest } from '../api/schemas.ts';
import type { ApiClient } from './api-client.ts';
import { CliError } from './errors.ts';
import { parseTarget } from './target-option.ts';

/** What the command needs of the CLI: an API client and stdout. */
export interface ReconcileContext {
  client(): ApiClient;
  out(text: string): void;
}

export interface ReconcileOptions {
  readonly certArn?: string;
  readonly name?: string;
  readonly target?: string;
  readonly verify?: boolean;
  readonly json?: boolean;
}

/** The request body: every mapping, or the one the three options name (never some of them). */
export function reconcileRequest(o: ReconcileOptions): ReconcileRequest {
  const named = { '--cert-arn': o.certArn, '--name': o.name, '--target': o.target };
  const missing = Object.entries(named).filter(([, v]) => v === undefined);
  const verify = o.verify === true ? { verify: true } : {};
  if (missing.length === 3) return verify;
  if (missing.length > 0 || o.certArn === undefined || o.name === undefined) {
    throw new CliError(
      `one mapping needs --cert-arn, --name and --target together (missing ${missing.map(([k]) => k).join(', ')}); without any of them every mapping is reconciled`,
    );
  }
  return {
    certificateArn: o.certArn,
    certName: o.name,
    target: parseTarget(o.target ?? ''),
    ...verify,
  };
}

/** What was queued, and where its outcome shows. */
export function formatReconcile(accepted: ReconcileAccepted, request: ReconcileRequest): string {
  const what =
    accepted.scope === 'all'
      ? 'every mapping'
      : `${request.certName} of ${request.certificateArn} on ${request.target?.key}=${request.target?.value}`;
  const verify = accepted.verify ? ', verifying the servers’ files' : '';
  return [
    `Reconciliation of ${what}${verify} queued (sweep ${accepted.sweepId})`,
    `  the worker logs one line per mapping: "reconcile: …" with sweepId ${accepted.sweepId}`,
    `  the jobs it starts have requester "reconcile ${accepted.sweepId}": acm-cert-export list shows each mapping's last job; acm-cert-export status <job-id> --wait follows one`,
  ].join('\n');
}

/** `acm-cert-export reconcile`: POST /v1/reconcile. */
export function addReconcileCommand(program: Command, cli: ReconcileContext): void {
  program
    .command('reconcile')
    .description(
      'Reconcile now: compare every mapping (or one) with ACM and its servers, and deploy what drifted',
    )
    .option('--cert-arn <arn>', 'one mapping: its ACM certificate ARN (with --name and --target)')
    .option('--name <name>', 'one mapping: its certificate name')
    .option('--target <key=value>', 'one mapping: its target tag, e.g. env=dev')
    .option(
      '--verify',
      'also check the installed files of the servers that look converged (the install document’s Verify mode); drift is repaired',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      [
        '',
        'Every mapping needs deploy on every target (a rule with target "*=*"); one mapping, deploy on its target.',
        '',
        'Examples:',
        '  acm-cert-export reconcile --verify',
        '  acm-cert-export reconcile --cert-arn arn:aws:acm:…:certificate/… --name web --target env=dev',
      ].join('\n'),
    )
    .action(async (o: ReconcileOptions) => {
      const request = reconcileRequest(o);
      const { body } = await cli
        .client()
        .request<ReconcileAccepted>('POST', '/v1/reconcile', { body: request });
      cli.out(o.json === true ? JSON.stringify(body, null, 2) : formatReconcile(body, request));
    });
}
