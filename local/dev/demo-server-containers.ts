/**
 * The local run's demo servers as containers (`bash local/up.sh --servers containers`): two
 * containers of the bookworm server image (local/servers/images.sh: Debian's nginx, openssl,
 * python3, AWS CLI), on the host's network, each running nginx with TLS on a loopback port
 * (8443 and 8444 unless taken) with the files the install script writes for the certificate
 * name `demo` (local/run-command/nginx-server.sh). The Run Command stand-in runs the demo
 * deployment's script inside them (tag `standin:container`), and its reload is nginx's own.
 * `stop()` removes them.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { repoRoot } from '../paths.ts';
import { startEngineService, whyNoContainerEngine } from '../run-command/engine-service.ts';
import { portIsFree } from './port-holder.ts';

const run = promisify(execFile);

export interface DemoServerContainer {
  readonly name: string;
  /** nginx's TLS port on 127.0.0.1. */
  readonly port: number;
}

export interface DemoServerContainers {
  readonly servers: readonly DemoServerContainer[];
  /** The engine's API socket for the stand-in (DOCKER_HOST form). */
  readonly dockerHost: string;
  stop(): Promise<void>;
}

/** The certificate name the demo deploys (`npm run demo`: --name demo). */
const certName = 'demo';
const firstPort = 8443;
const nginxServerScript = '/usr/local/sbin/acm-cert-export-nginx-server';

/** The bookworm server image, built by images.sh unless cached (its progress on stderr). */
async function bookwormImage(): Promise<string> {
  const child = spawn('bash', [join(repoRoot, 'local/servers/images.sh'), 'bookworm'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolveExit) => child.once('close', resolveExit));
  if (code !== 0) throw new Error(`local/servers/images.sh bookworm exited ${code}`);
  return out.trim().split('\n').at(-1) as string;
}

async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = firstPort; ports.length < count && port < firstPort + 100; port++) {
    if (await portIsFree(port, '127.0.0.1')) ports.push(port);
  }
  if (ports.length < count) throw new Error(`no free ports from ${firstPort} for nginx`);
  return ports;
}

/** Resolves once something answers a TLS handshake on the port. */
async function servesTls(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolveTry) => {
      const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        socket.end();
        resolveTry(true);
      });
      socket.once('error', () => resolveTry(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nginx did not serve TLS on 127.0.0.1:${port}`);
    await sleep(200);
  }
}

export async function startDemoServerContainers(
  stateDir: string,
  apiPort: number,
  count = 2,
): Promise<DemoServerContainers> {
  const why = await whyNoContainerEngine();
  if (why !== undefined) throw new Error(`--servers containers: ${why}`);
  const image = await bookwormImage();
  const engine = await startEngineService(join(stateDir, 'engine'));
  const ports = await freePorts(count);
  // Named after the API's port, which no other local run holds: a run that was killed leaves
  // containers that the next run on its port replaces.
  const servers = ports.map((port, i) => ({
    name: `acm-cert-export-local-${apiPort}-web-${i + 1}`,
    port,
  }));
  const remove = async () => {
    // kill, then rm: at once with podman and Docker alike (`rm --time` is podman's only).
    const names = servers.map((server) => server.name);
    await run(engine.cli, ['kill', ...names]).catch(() => undefined);
    await run(engine.cli, ['rm', '--force', ...names]).catch(() => undefined);
  };
  try {
    await remove();
    for (const { name, port } of servers) {
      await run(engine.cli, [
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        'host',
        '--label',
        'org.acm-cert-export.local-run=demo-server',
        '--volume',
        `${join(repoRoot, 'local/run-command/nginx-server.sh')}:${nginxServerScript}:ro`,
        image,
        'bash',
        nginxServerScript,
        certName,
        `127.0.0.1:${port}`,
      ]);
    }
    for (const { port } of servers) await servesTls(port, 30_000);
  } catch (error) {
    await remove();
    await engine.stop();
    throw error;
  }
  return {
    servers,
    dockerHost: engine.dockerHost,
    async stop() {
      await remove();
      await engine.stop();
    },
  };
}
