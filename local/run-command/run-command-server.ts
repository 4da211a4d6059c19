/**
 * A local stand-in for SSM Run Command: an HTTP server speaking the SSM JSON API that answers
 * SendCommand, ListCommands, ListCommandInvocations, GetCommandInvocation, CancelCommand and
 * DescribeInstanceInformation itself, running each command's script for real on local stand-in
 * servers (one directory per managed node under `<stateDir>/servers/`: an EC2 instance once its
 * agent has registered, or an on-premises `mi-…` node registered with a hybrid activation, whose
 * operations it answers too: hybrid-operations.ts) or, for a node tagged
 * `standin:container=<name>`, inside that container through the engine's API
 * (container-script.ts), and forwards every other call to moto.
 *
 * Point the production SSM client at it with AWS_ENDPOINT_URL_SSM=<endpoint>.
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { repoRoot } from '../paths.ts';
import type { RunningCommand } from './command-runner.ts';
import { CommandStore } from './command-state.ts';
import { ContainerEngine, engineSocket } from './container-engine.ts';
import { shimDir } from './container-script.ts';
import { forwardToMoto } from './forward-to-moto.ts';
import { HybridFleet } from './hybrid-nodes.ts';
import { type OperationContext, operations } from './operations.ts';
import { defaultReloadCommands, parseReloadCommands } from './server-root.ts';
import { defaultTiming, type RunCommandTiming } from './timing.ts';
import {
  forwardToEmulator,
  parseJsonBody,
  readBody,
  sendError,
  sendResult,
  ssmOperation,
} from './wire.ts';

export interface RunCommandServerOptions {
  /** moto's base URL: documents, instances and secrets live there. */
  motoEndpoint: string;
  /** Directory for every file the stand-in writes (server roots, scripts). */
  stateDir: string;
  /** Port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /**
   * Address to listen on (default 127.0.0.1). docker compose gives 0.0.0.0: the service calls
   * the stand-in from a container of its own, over the compose network only.
   */
  host?: string;
  /** Region of the emulated account (default us-east-1). */
  region?: string;
  /** Overrides of the default timing (see RunCommandTiming). */
  timing?: Partial<RunCommandTiming>;
  /** Extra or replaced environment variables for every script. */
  scriptEnv?: Record<string, string>;
  /**
   * Reload commands every stand-in server allows (default `defaultReloadCommands`): each is a
   * line of the server's allow-list, with a recorder at `<root><argv0>` (see server-root.ts).
   */
  reloadCommands?: readonly string[];
  /**
   * Now, epoch ms, as the stand-in's agents see it: when they register and ping. Tests move it
   * forward to let agents register without waiting; commands still run on real time.
   */
  clock?: () => number;
  /**
   * Name each server in its own AWS calls' User-Agent (app id `acm-cert-export-server.<id>`):
   * the test bed's IAM evaluation (local/iam) then checks its reads of the job's secret against
   * the servers' ABAC policy, its tags standing for its role's. On for the service's flows (the
   * local run, the worker tests); off by default, for scripts reading secrets a test made.
   */
  nameServers?: boolean;
  /**
   * The container engine that runs the scripts of servers that are containers (tag
   * `standin:container`): its Docker Engine API socket, as DOCKER_HOST writes it
   * (`unix:///run/docker.sock`) or a path. Without it such servers' invocations fail, saying so.
   */
  containerEngine?: string;
  /**
   * moto's base URL as the server containers reach it (default `motoEndpoint`: the same with
   * host networking, or on the compose network where both use its service name).
   */
  containerMotoEndpoint?: string;
  /** Receives one line per notable event; silent when omitted. */
  log?: (line: string) => void;
}

export interface RunCommandServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  readonly endpoint: string;
  /** Cancels running scripts (killing their process groups), then closes the server. */
  stop(): Promise<void>;
}

/** The stand-in as started: its API can also be restarted (the soak's fault). */
export interface StartedRunCommandServer extends RunCommandServer {
  /**
   * A blip of the API, as when Run Command's endpoint fails for a while: closes the listener and
   * destroys every open connection at once (requests in flight get no answer), refuses
   * connections for `downMs`, then listens again on the same address and port (settling then).
   * Commands, invocations, scripts, timers and status-change events carry on throughout.
   */
  restartApi(options: { downMs: number }): Promise<void>;
  /** How many times the API was restarted. */
  readonly apiRestarts: number;
}

/** Credentials moto accepts; the stand-in servers' "instance role". */
const emulatorCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function scriptBaseEnv(options: RunCommandServerOptions, region: string): Record<string, string> {
  return {
    PATH: [
      join(repoRoot, '.venv', 'bin'),
      '/usr/local/sbin',
      '/usr/local/bin',
      '/usr/sbin',
      '/usr/bin',
      '/sbin',
      '/bin',
    ].join(':'),
    LANG: 'C.UTF-8',
    AWS_ENDPOINT_URL: options.motoEndpoint,
    AWS_ACCESS_KEY_ID: emulatorCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulatorCredentials.secretAccessKey,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...options.scriptEnv,
  };
}

/** What a server container's scripts get: its own PATH and HOME, the emulator and its region. */
function containerBaseEnv(endpoint: string, region: string): Record<string, string> {
  return {
    // The bed's aws shim first (container-script.ts): Debian's CLI ignores AWS_ENDPOINT_URL.
    PATH: `${shimDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    LANG: 'C.UTF-8',
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: emulatorCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulatorCredentials.secretAccessKey,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  };
}

export async function startRunCommandServer(
  options: RunCommandServerOptions,
): Promise<StartedRunCommandServer> {
  const region = options.region ?? 'us-east-1';
  // Checked before anything starts: a bad command is a configuration error, said at once.
  const reloadCommands = parseReloadCommands(options.reloadCommands ?? defaultReloadCommands);
  const stateDir = resolve(options.stateDir);
  await mkdir(join(stateDir, 'servers'), { recursive: true });
  const shutdown = new AbortController();
  const clientConfig = {
    region,
    endpoint: options.motoEndpoint,
    credentials: emulatorCredentials,
    maxAttempts: 2,
  };
  const running = new Map<string, RunningCommand>();
  const context: OperationContext = {
    timing: { ...defaultTiming, ...options.timing },
    stateDir,
    baseEnv: scriptBaseEnv(options, region),
    region,
    reloadCommands,
    ...(options.containerEngine === undefined
      ? {}
      : {
          containers: {
            engine: new ContainerEngine(engineSocket(options.containerEngine)),
            env: containerBaseEnv(options.containerMotoEndpoint ?? options.motoEndpoint, region),
          },
        }),
    nameServers: options.nameServers ?? false,
    now: options.clock ?? Date.now,
    shutdown: shutdown.signal,
    log: options.log ?? (() => {}),
    store: new CommandStore(),
    running,
    ssm: new SSMClient(clientConfig),
    ec2: new EC2Client(clientConfig),
    iam: new IAMClient(clientConfig),
    events: new EventBridgeClient(clientConfig),
    hybrid: new HybridFleet(),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const operation = ssmOperation(req);
    const answer = operation === undefined ? undefined : operations[operation];
    if (answer === undefined) {
      await forwardToMoto(options.motoEndpoint, req, body, res);
      return;
    }
    try {
      const result = await answer(parseJsonBody(body), context);
      if (result === forwardToEmulator) {
        await forwardToMoto(options.motoEndpoint, req, body, res);
        return;
      }
      sendResult(res, result);
    } catch (error) {
      if (!(error instanceof Error && error.name === 'SsmApiError')) {
        context.log(`${operation} failed: ${String(error)}`);
      }
      sendError(res, error);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      context.log(`request failed: ${String(error)}`);
      if (!res.headersSent) sendError(res, error);
      else res.destroy();
    });
  });
  // Every connection, idle or not: a restart of the API drops them all.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  const listen = (port: number) =>
    new Promise<void>((resolveListen, reject) => {
      const failed = (error: Error) => reject(error);
      server.once('error', failed);
      server.listen(port, host, () => {
        server.off('error', failed);
        resolveListen();
      });
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  let apiRestarts = 0;
  const restartApi = async ({ downMs }: { downMs: number }) => {
    apiRestarts += 1;
    context.log(`API restarting: down for ${downMs} ms`);
    // Closed before the first await: a connection made once this returns is refused.
    const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    for (const socket of sockets) socket.destroy();
    await closed;
    await sleep(downMs);
    // The port was free a moment ago; another process may take it meanwhile (rare on loopback):
    // try again for a while rather than move.
    for (let attempt = 1; ; attempt++) {
      if (stopping !== undefined) return;
      try {
        await listen(port);
        context.log('API listening again');
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw error;
        await sleep(100);
      }
    }
  };
  const stop = () => {
    stopping ??= (async () => {
      shutdown.abort();
      await Promise.allSettled([...running.values()].map((command) => command.done));
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      context.ssm.destroy();
      context.ec2.destroy();
      context.iam.destroy();
      context.events.destroy();
    })();
    return stopping;
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop,
    restartApi,
    get apiRestarts() {
      return apiRestarts;
    },
  };
}
