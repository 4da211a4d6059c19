import { spawn } from 'node:child_process';
import { type Command, Option } from 'commander';
import { type ForwardedAnswer, startDashboardServer } from '../dashboard/dashboard-server.ts';
import type { ApiClient } from './api-client.ts';
import { CliError } from './errors.ts';

/** What the command needs of the CLI: the API client every command signs with, and stdout. */
export interface DashboardContext {
  client(): ApiClient;
  baseUrl(): string;
  out(text: string): void;
}

export interface DashboardHooks {
  /** Resolves when the dashboard should stop (default: Ctrl-C or SIGTERM). */
  readonly stopped?: () => Promise<void>;
  /** Opens a URL in the user's browser (default: xdg-open, open or start). */
  readonly openBrowser?: (url: string) => void;
  /** Told the URL once the server listens (tests). */
  readonly listening?: (url: string) => void;
}

export const defaultDashboardPort = 8090;

/** HTTP status of the API's error codes (docs/api.md), so that the page sees the API's answer. */
const statusOfCode: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  DEPLOYMENT_NOT_FOUND: 404,
  MAPPING_NOT_FOUND: 404,
  INTERNAL_ERROR: 500,
  DEPENDENCY_UNAVAILABLE: 503,
  AUTH_UNAVAILABLE: 503,
};

/**
 * GETs one API path with the CLI's client (signed as every command signs: a token, or SigV4
 * for API Gateway). An error becomes the API's code and message with its status; a failure to
 * reach the API or to sign is 502 with the CLI's one-line reason. Never a header or a token.
 */
export async function forwardRead(client: ApiClient, path: string): Promise<ForwardedAnswer> {
  try {
    const { status, body } = await client.request<unknown>('GET', path);
    return { status, body };
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    const code = error.code ?? 'API_UNREACHABLE';
    return {
      status: statusOfCode[code] ?? 502,
      body: { error: { code, message: error.message } },
    };
  }
}

/**
 * Resolves at the first Ctrl-C or SIGTERM. The handlers stay (doing nothing more): a second
 * signal while the server closes, as from a wrapper that passes on the terminal's Ctrl-C, must
 * not kill the process half-way.
 */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
}

function systemOpen(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => {
    process.stderr.write(`could not open a browser (${command}); open ${url} yourself\n`);
  });
  child.unref();
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new CliError(`--port must be a TCP port (0-65535; 0: any free one), got "${value}"`);
  }
  return n;
}

/**
 * `acm-cert-export dashboard [--port N] [--open]`: serves the read-only dashboard page on
 * 127.0.0.1 and forwards its GETs of the API's read routes, each signed with the user's own AWS
 * credentials (as `kubectl proxy` does): no new way to log in.
 */
export function addDashboardCommand(
  program: Command,
  cli: DashboardContext,
  hooks: DashboardHooks = {},
): void {
  program
    .command('dashboard')
    .description(
      'Serve a read-only dashboard (certificates, days to expiry, recent deployments, a job’s timeline) on 127.0.0.1, reading the API with your AWS credentials',
    )
    .addOption(
      new Option('--port <port>', 'port on 127.0.0.1 (0: any free one)')
        .default(defaultDashboardPort)
        .argParser(port),
    )
    .option('--open', 'open it in your browser')
    .addHelpText(
      'after',
      [
        '',
        'It listens on 127.0.0.1 only and answers only GETs addressed to that address and port; it',
        'forwards the page’s reads of the API (certificates, deployments, their servers), each signed',
        'as every other command signs, with your AWS credentials (needs read). Ctrl-C stops it.',
        '',
        'Examples:',
        '  acm-cert-export dashboard',
        '  acm-cert-export dashboard --port 0 --open',
      ].join('\n'),
    )
    .action(async (o: { port: number; open?: boolean }) => {
      const client = cli.client();
      const apiUrl = cli.baseUrl();
      let server: Awaited<ReturnType<typeof startDashboardServer>>;
      try {
        server = await startDashboardServer({
          port: o.port,
          apiUrl,
          forward: (path) => forwardRead(client, path),
        });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') {
          throw new CliError(
            `port ${o.port} on 127.0.0.1 is in use: pass --port with another (0: any free one)`,
          );
        }
        throw error;
      }
      cli.out(
        `Dashboard: ${server.url} (read-only; reads ${apiUrl} with your AWS credentials). Ctrl-C stops it.`,
      );
      hooks.listening?.(server.url);
      if (o.open === true) (hooks.openBrowser ?? systemOpen)(server.url);
      await (hooks.stopped ?? untilSignal)();
      await server.close();
    });
}
