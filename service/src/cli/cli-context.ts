import type { Command } from 'commander';
import type { CertificateItem, DeploymentView } from '../api/schemas.ts';
import type { CredentialsInput } from '../auth/token-client.ts';
import { createAuthToken, defaultStsEndpoint, regionOfStsEndpoint } from '../auth/token-client.ts';
import { isTerminal } from '../domain/deployment.ts';
import { ApiClient, pages } from './api-client.ts';
import { shortId, type TimeFormat, timeFormat } from './display.ts';
import { CliError, exitCodes } from './errors.ts';
import { formatDeployment, progressLines } from './format.ts';
import { JobIds, type StateFile } from './job-ids.ts';
import { Progress, redrawEveryMs } from './progress.ts';
import { signForApiGateway } from './sigv4.ts';

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
  /** Writes text to stdout as it is (no newline): `--wait` rewrites its progress line with it. */
  readonly write: (text: string) => void;
  /** Whether stdout is a terminal: `--wait` then keeps a live progress line. */
  readonly stdoutIsTTY: boolean;
  /** The time zone of human output (IANA name); the system's when undefined. */
  readonly timeZone?: string | undefined;
  /** A small file of the CLI's own state (`job-ids`: the short ids' memory), mode 600. */
  readonly stateFile: (name: string) => StateFile;
}

/** The options every command shares (`acm-cert-export --endpoint … <command>`). */
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

/** Options of `--wait` (deploy, status, cancel). */
export interface FollowOptions {
  readonly json: boolean;
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
}

const tokenReuseMs = 60_000;

/**
 * What the commands share: the global options resolved against the environment, an API client
 * signed as the options say, and following a job. Each command takes the slice it needs as a
 * small context interface of its own.
 */
export class Cli {
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

  /** Human output's time format: local time (or `timeZone`'s) with the UTC offset. */
  time(): TimeFormat {
    return timeFormat(this.#e.timeZone);
  }

  /**
   * Short job ids: resolves a prefix (job-ids.ts) among the jobs this CLI remembers, then each
   * managed mapping's last job (every page of GET /v1/certificates, read only then).
   */
  jobIds(client: ApiClient): JobIds {
    return new JobIds(this.#e.stateFile('job-ids'), async () => {
      const ids: string[] = [];
      for await (const item of pages<CertificateItem>(client, '/v1/certificates')) {
        if (item.lastJobId !== undefined) ids.push(item.lastJobId);
      }
      return ids;
    });
  }

  /**
   * Polls until the job is terminal, printing each change; on a terminal also a progress line
   * redrawn at least every 2 s (progress.ts). Returns the exit code.
   */
  async follow(client: ApiClient, jobId: string, options: FollowOptions): Promise<number> {
    const deadline = this.#e.now().getTime() + options.timeoutSeconds * 1000;
    const time = this.time();
    const progress = new Progress(this.#e, this.#e.now());
    const intervalMs = options.intervalSeconds * 1000;
    let previous: DeploymentView | undefined;
    for (;;) {
      const { body } = await client.request<DeploymentView>(
        'GET',
        `/v1/deployments/${encodeURIComponent(jobId)}`,
      );
      if (!options.json) progress.print(progressLines(previous, body, this.#e.now(), time));
      previous = body;
      if (isTerminal(body.status)) {
        progress.clear();
        this.#e.out(
          options.json ? JSON.stringify(body, null, 2) : `\n${formatDeployment(body, time)}`,
        );
        return body.status === 'Succeeded' ? exitCodes.ok : exitCodes.jobFailed;
      }
      if (this.#e.now().getTime() >= deadline) {
        progress.clear();
        if (options.json) this.#e.out(JSON.stringify(body, null, 2));
        this.#e.err(
          `still ${body.status} after ${options.timeoutSeconds} s; follow it with: acm-cert-export status ${shortId(jobId)} --wait`,
        );
        return exitCodes.waitTimedOut;
      }
      // Until the next check: on a terminal, the live line is redrawn at least every 2 s.
      const live = progress.live && !options.json;
      for (let waited = 0; waited < intervalMs; ) {
        if (live) progress.redraw(body, this.#e.now());
        const step = live ? Math.min(redrawEveryMs, intervalMs - waited) : intervalMs - waited;
        await this.#e.sleep(step);
        waited += step;
      }
    }
  }

  out(text: string): void {
    this.#e.out(text);
  }

  env(): CliEnvironment {
    return this.#e;
  }
}
