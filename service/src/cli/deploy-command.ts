import { randomUUID } from 'node:crypto';
import { type Command, Option } from 'commander';
import type { DeploymentPlanView, JobAccepted } from '../api/schemas.ts';
import type { ApiClient } from './api-client.ts';
import type { FollowOptions } from './cli-context.ts';
import { shortId, type TimeFormat } from './display.ts';
import { CliError, exitCodes } from './errors.ts';
import { formatAccepted, formatPlan } from './format.ts';
import { addWaitOptions, positiveNumber } from './options.ts';
import { parseTarget } from './target-option.ts';

/** What the command needs of the CLI: an API client, its URL, stdout, and following a job. */
export interface DeployContext {
  client(): ApiClient;
  baseUrl(): string;
  out(text: string): void;
  follow(client: ApiClient, jobId: string, options: FollowOptions): Promise<number>;
  time(): TimeFormat;
  jobIds(client: ApiClient): { remember(ids: readonly string[]): Promise<void> };
}

interface DeployOptions {
  readonly certArn: string;
  readonly name: string;
  readonly target: string;
  readonly reloadCommand?: string;
  readonly certDir?: string;
  readonly keyDir?: string;
  readonly owner?: string;
  readonly group?: string;
  readonly keyMode?: string;
  readonly format?: string[];
  readonly canary?: number;
  readonly idempotencyKey?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly wait?: boolean;
  readonly timeout: number;
  readonly interval: number;
}

/** The request body of POST /v1/deployments (and its dry run) from the options. */
function deploymentRequest(o: DeployOptions) {
  const install = Object.fromEntries(
    Object.entries({
      reloadCommand: o.reloadCommand,
      certDir: o.certDir,
      keyDir: o.keyDir,
      owner: o.owner,
      group: o.group,
      keyMode: o.keyMode,
      formats: o.format,
    }).filter(([, v]) => v !== undefined),
  );
  return {
    certificateArn: o.certArn,
    certName: o.name,
    target: parseTarget(o.target),
    ...(Object.keys(install).length > 0 ? { install } : {}),
    ...(o.canary === undefined ? {} : { rollout: { canary: o.canary } }),
  };
}

/** `acm-cert-export deploy`: POST /v1/deployments (or /v1/deployments/dry-run). */
export function addDeployCommand(
  program: Command,
  cli: DeployContext,
  setExit: (code: number) => void,
): void {
  addWaitOptions(
    program
      .command('deploy')
      .description('Deploy a certificate to every server carrying a tag')
      .requiredOption('--cert-arn <arn>', 'ACM certificate ARN')
      .requiredOption('--name <name>', 'certificate name used in installed file names')
      .requiredOption('--target <key=value>', 'tag of the servers, e.g. env=dev')
      .option(
        '--reload-command <command>',
        "absolute path and arguments run on each server after installing; must be in the service's ALLOWED_RELOAD_COMMANDS and each server's /etc/acm-cert-export/reload-commands",
      )
      .option('--cert-dir <dir>', 'where the certificate files go')
      .option('--key-dir <dir>', 'where the key goes')
      .option('--owner <user>', 'owner of the installed files')
      .option('--group <group>', 'group of the installed files')
      .option('--key-mode <mode>', 'key file mode: 600, 640, 400 or 440')
      .option(
        '--format <formats>',
        'files besides the PEM files, kept for renewals (repeatable or comma-separated): combined (key + full chain, HAProxy), pkcs12 (.p12, AES-256) or pkcs12-legacy (.p12, 3DES, old Java/Windows); none: no extra files, removing any',
        (value: string, previous: string[] | undefined) => [
          ...(previous ?? []),
          ...value.split(',').filter((f) => f !== '' && f !== 'none'),
        ],
      )
      .addOption(
        new Option(
          '--canary <servers>',
          'install on this many servers first (1-50), then on the rest only if all of them succeeded',
        ).argParser(positiveNumber('--canary')),
      )
      .option(
        '--idempotency-key <key>',
        'makes retries of this command return the same job (default: a new key per run)',
      )
      .option(
        '--dry-run',
        'check the request and show what a deployment would do (certificate, servers, their agents and serials); changes nothing. Exit 0 when every server would get it, 2 when not',
      )
      .option('--json', 'print JSON'),
  ).action(async (o: DeployOptions) => {
    const body = deploymentRequest(o);
    const client = cli.client();
    if (o.dryRun) {
      if (o.wait || o.idempotencyKey !== undefined) {
        throw new CliError(
          '--dry-run deploys nothing: it takes neither --wait nor --idempotency-key',
        );
      }
      const { body: plan } = await client.request<DeploymentPlanView>(
        'POST',
        '/v1/deployments/dry-run',
        { body },
      );
      cli.out(o.json ? JSON.stringify(plan, null, 2) : formatPlan(plan, cli.time()));
      const everywhere =
        plan.wouldDeploy && plan.problems.length === 0 && plan.servers.every((s) => s.wouldInstall);
      if (!everywhere) setExit(exitCodes.jobFailed);
      return;
    }
    const { body: accepted } = await client.request<JobAccepted>('POST', '/v1/deployments', {
      body,
      headers: { 'idempotency-key': o.idempotencyKey ?? randomUUID() },
    });
    await cli.jobIds(client).remember([accepted.jobId]);
    if (o.wait) {
      if (!o.json)
        cli.out(
          `Job ${shortId(accepted.jobId)} queued; following it (Ctrl-C stops following, not the job)`,
        );
      setExit(
        await cli.follow(client, accepted.jobId, {
          json: o.json === true,
          timeoutSeconds: o.timeout,
          intervalSeconds: o.interval,
        }),
      );
      return;
    }
    cli.out(o.json ? JSON.stringify(accepted, null, 2) : formatAccepted(accepted, cli.baseUrl()));
  });
}
