import { randomUUID } from 'node:crypto';
import { Command, CommanderError, Option } from 'commander';
import type {
  CertificateItem,
  DeploymentPlanView,
  DeploymentView,
  JobAccepted,
} from '../api/schemas.ts';
import type { CredentialsInput } from '../auth/token-client.ts';
import { createAuthToken, defaultStsEndpoint, regionOfStsEndpoint } from '../auth/token-client.ts';
import { isTerminal } from '../domain/deployment.ts';
import { ApiClient } from './api-client.ts';
import { addCancelCommand } from './cancel-command.ts';
import { CliError, exitCodes } from './errors.ts';
import {
  formatAccepted,
  formatCertificates,
  formatDeployment,
  formatPlan,
  progressLines,
} from './format.ts';
import { addReconcileCommand } from './reconcile-command.ts';
import { renewalEvent } from './renewal-event.ts';
import { signForApiGateway } from './sigv4.ts';
import { parseTarget } from './target-option.ts';

/** Everything the CLI touches outside itself, so that tests can run it in-process. */
export interface CliEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes one line (or block) to stdout / stderr. */
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly fetch: typeof fetch;
  /** The AWS credential provider (the standard chain by default). */
  readonly credentials: () => CredentialsInput;
  /** Region from the shared config files when no option or variable gives one. */
  readonly configuredRegion: () => Promise<string | undefined>;
  /** Sends one SQS message; returns its message id. */
  readonly sendMessage: (input: {
    queueUrl: string;
    body: string;
    region: string;
  }) => Promise<string>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
}

interface GlobalOptions {
  auth?: string;
  endpoint?: string;
  audience?: string;
  region?: string;
  stsEndpoint?: string;
}

interface Signing {
  readonly audience: string;
  readonly stsEndpoint: string;
  readonly region: string;
}

const tokenReuseMs = 60_000;

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new CliError(`${name} must be a positive number`);
    return n;
  };
}

class Cli {
  readonly #e: CliEnvironment;
  readonly #program: Command;
  #credentials: CredentialsInput | undefined;

  constructor(environment: CliEnvironment, program: Command) {
    this.#e = environment;
    this.#program = program;
  }

  #globals(): GlobalOptions {
    return this.#program.opts<GlobalOptions>();
  }

  async region(): Promise<string> {
    const g = this.#globals();
    const region =
      g.region ??
      this.#e.env.AWS_REGION ??
      this.#e.env.AWS_DEFAULT_REGION ??
      (await this.#e.configuredRegion());
    if (region === undefined || region === '') {
      throw new CliError('no AWS region: pass --region or set AWS_REGION');
    }
    return region;
  }

  async signing(): Promise<Signing> {
    const g = this.#globals();
    const region = await this.region();
    const stsEndpoint =
      g.stsEndpoint ??
      this.#e.env.ACM_CERT_EXPORT_STS_ENDPOINT ??
      defaultStsEndpoint(region, this.#e.env);
    return {
      audience: g.audience ?? this.#e.env.ACM_CERT_EXPORT_AUDIENCE ?? 'acm-cert-export',
      stsEndpoint,
      region: regionOfStsEndpoint(stsEndpoint) ?? region,
    };
  }

  async token(): Promise<string> {
    const s = await this.signing();
    this.#credentials ??= this.#e.credentials();
    try {
      return await createAuthToken({
        credentials: this.#credentials,
        ...s,
        signingDate: this.#e.now(),
      });
    } catch (error) {
      if (error instanceof CliError) throw error;
      const why = error instanceof Error ? error.message : String(error);
      throw new CliError(`cannot sign a token with the AWS credentials found: ${why}`);
    }
  }

  baseUrl(): string {
    const url = this.#globals().endpoint ?? this.#e.env.ACM_CERT_EXPORT_URL;
    if (url === undefined || url === '') {
      throw new CliError('no API URL: pass --endpoint or set ACM_CERT_EXPORT_URL');
    }
    try {
      new URL(url);
    } catch {
      throw new CliError(`--endpoint must be a URL, got "${url}"`);
    }
    return url;
  }

  authMode(): 'token' | 'sigv4' {
    const mode = this.#globals().auth ?? this.#e.env.ACM_CERT_EXPORT_AUTH ?? 'token';
    if (mode !== 'token' && mode !== 'sigv4') {
      throw new CliError(`--auth must be token or sigv4, got "${mode}"`);
    }
    return mode;
  }

  client(): ApiClient {
    const mode = this.authMode();
    let cached: { value: string; at: number } | undefined;
    const token = async (fresh: boolean) => {
      const now = this.#e.now().getTime();
      if (!fresh && cached !== undefined && now - cached.at < tokenReuseMs) return cached.value;
      cached = { value: await this.token(), at: now };
      return cached.value;
    };
    return new ApiClient({
      baseUrl: this.baseUrl(),
      fetch: this.#e.fetch,
      sleep: this.#e.sleep,
      authorize: async (request, fresh) => {
        if (mode === 'token') return { authorization: await token(fresh) };
        this.#credentials ??= this.#e.credentials();
        return signForApiGateway(request, {
          credentials: this.#credentials,
          region: await this.region(),
          signingDate: this.#e.now(),
        });
      },
    });
  }

  /** Polls until the job is terminal; prints progress; returns the exit code. */
  async follow(
    client: ApiClient,
    jobId: string,
    options: { json: boolean; timeoutSeconds: number; intervalSeconds: number },
  ): Promise<number> {
    const deadline = this.#e.now().getTime() + options.timeoutSeconds * 1000;
    let previous: DeploymentView | undefined;
    for (;;) {
      const { body } = await client.request<DeploymentView>(
        'GET',
        `/v1/deployments/${encodeURIComponent(jobId)}`,
      );
      if (!options.json) {
        for (const line of progressLines(previous, body, this.#e.now())) this.#e.out(line);
      }
      previous = body;
      if (isTerminal(body.status)) {
        this.#e.out(options.json ? JSON.stringify(body, null, 2) : `\n${formatDeployment(body)}`);
        return body.status === 'Succeeded' ? exitCodes.ok : exitCodes.jobFailed;
      }
      if (this.#e.now().getTime() >= deadline) {
        if (options.json) this.#e.out(JSON.stringify(body, null, 2));
        this.#e.err(
          `still ${body.status} after ${options.timeoutSeconds} s; follow it with: acm-cert-export status ${jobId} --wait`,
        );
        return exitCodes.waitTimedOut;
      }
      await this.#e.sleep(options.intervalSeconds * 1000);
    }
  }

  out(text: string): void {
    this.#e.out(text);
  }

  env(): CliEnvironment {
    return this.#e;
  }
}

const waitOptions = (command: Command) =>
  command
    .option('--wait', 'follow the job, showing progress per server, until it ends')
    .addOption(
      new Option('--timeout <seconds>', 'with --wait: give up after this long (exit 3)')
        .default(3600)
        .argParser(positiveNumber('--timeout')),
    )
    .addOption(
      new Option('--interval <seconds>', 'with --wait: seconds between checks')
        .default(2)
        .argParser(positiveNumber('--interval')),
    );

/** Builds the command tree; `run` parses and executes it. */
function buildProgram(environment: CliEnvironment, setExit: (code: number) => void): Command {
  const program = new Command('acm-cert-export');
  const cli = new Cli(environment, program);
  program
    .description('Deploy ACM certificates to servers, follow jobs, and list managed certificates.')
    .option('--endpoint <url>', 'API base URL (env ACM_CERT_EXPORT_URL)')
    .option(
      '--auth <mode>',
      'token: AcmCertExport tokens (the container behind an ALB, default); sigv4: sign each request for API Gateway (Lambda mode) (env ACM_CERT_EXPORT_AUTH)',
    )
    .option('--audience <value>', 'the service’s AUTH_AUDIENCE (env ACM_CERT_EXPORT_AUDIENCE)')
    .option('--region <region>', 'AWS region (env AWS_REGION, or the shared config)')
    .option(
      '--sts-endpoint <url>',
      'STS endpoint to sign for; must be the service’s AUTH_STS_ENDPOINT (env ACM_CERT_EXPORT_STS_ENDPOINT; default: regional, or AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL)',
    )
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => environment.out(s.replace(/\n$/, '')),
      writeErr: (s) => environment.err(s.replace(/\n$/, '')),
    })
    .exitOverride();

  waitOptions(
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
  ).action(async (o) => {
    const install = Object.fromEntries(
      Object.entries({
        reloadCommand: o.reloadCommand,
        certDir: o.certDir,
        keyDir: o.keyDir,
        owner: o.owner,
        group: o.group,
        keyMode: o.keyMode,
      }).filter(([, v]) => v !== undefined),
    );
    const body = {
      certificateArn: o.certArn,
      certName: o.name,
      target: parseTarget(o.target),
      ...(Object.keys(install).length > 0 ? { install } : {}),
      ...(o.canary === undefined ? {} : { rollout: { canary: o.canary } }),
    };
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
      cli.out(o.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
      const everywhere =
        plan.wouldDeploy && plan.problems.length === 0 && plan.servers.every((s) => s.wouldInstall);
      if (!everywhere) setExit(exitCodes.jobFailed);
      return;
    }
    const { body: accepted } = await client.request<JobAccepted>('POST', '/v1/deployments', {
      body,
      headers: { 'idempotency-key': o.idempotencyKey ?? randomUUID() },
    });
    if (o.wait) {
      if (!o.json)
        cli.out(`Job ${accepted.jobId} queued; following it (Ctrl-C stops following, not the job)`);
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

  waitOptions(
    program
      .command('status')
      .description('Show a job: status, conditions and per-server results')
      .argument('<job-id>')
      .option('--json', 'print JSON'),
  ).action(async (jobId: string, o) => {
    const client = cli.client();
    if (o.wait) {
      setExit(
        await cli.follow(client, jobId, {
          json: o.json === true,
          timeoutSeconds: o.timeout,
          intervalSeconds: o.interval,
        }),
      );
      return;
    }
    const { body } = await client.request<DeploymentView>(
      'GET',
      `/v1/deployments/${encodeURIComponent(jobId)}`,
    );
    cli.out(o.json ? JSON.stringify(body, null, 2) : formatDeployment(body));
    if (isTerminal(body.status) && body.status !== 'Succeeded') setExit(exitCodes.jobFailed);
  });

  program
    .command('list')
    .description('List managed certificates: target, name, days to expiry, last outcome')
    .option('--json', 'print JSON (all pages as one array)')
    .action(async (o) => {
      const client = cli.client();
      const items: CertificateItem[] = [];
      let cursor: string | undefined;
      do {
        const query = `?limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const { body } = await client.request<{ items: CertificateItem[]; nextCursor?: string }>(
          'GET',
          `/v1/certificates${query}`,
        );
        items.push(...body.items);
        cursor = body.nextCursor;
      } while (cursor !== undefined);
      cli.out(o.json ? JSON.stringify(items, null, 2) : formatCertificates(items));
    });

  program
    .command('stop-managing')
    .description(
      'Stop deploying a certificate to a target (its passphrase secret is scheduled for deletion)',
    )
    .requiredOption('--cert-arn <arn>', 'ACM certificate ARN')
    .requiredOption('--name <name>', 'certificate name')
    .requiredOption('--target <key=value>', 'tag of the servers')
    .option('--json', 'print JSON')
    .action(async (o) => {
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

  addReconcileCommand(program, cli);
  addCancelCommand(program, cli, setExit, waitOptions);

  program
    .command('token')
    .description(
      'Print an Authorization header value (valid for the service’s AUTH_MAX_TOKEN_AGE_SECONDS), for curl',
    )
    .action(async () => {
      cli.out(await cli.token());
    });

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
    .action(async (o) => {
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

  return program;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  environment: CliEnvironment,
): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const program = buildProgram(environment, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.error;
    }
    if (error instanceof CliError) {
      environment.err(`acm-cert-export: ${error.message}`);
      return error.exitCode;
    }
    environment.err(`acm-cert-export: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodes.error;
  }
}
