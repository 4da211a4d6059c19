/**
 * A Docker Engine API socket for the stand-in's server containers (container-engine.ts): the
 * one DOCKER_HOST names (Docker, Docker Desktop, or a podman service already running), or else
 * podman's own, started here (`podman system service --time=0 unix://<dir>/podman.sock`) and
 * stopped with `stop()`. Used by the local run (`--servers containers`) and the tests.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface EngineService {
  /** DOCKER_HOST form: `unix:///path`. */
  readonly dockerHost: string;
  /** The CLI that manages containers here (`podman` or `docker`). */
  readonly cli: string;
  stop(): Promise<void>;
}

/**
 * Why server containers cannot run here (no engine CLI, or it does not answer), or undefined
 * when they can. The tests skip with this line.
 */
export async function whyNoContainerEngine(env = process.env): Promise<string | undefined> {
  const cli = engineCli(env);
  try {
    await run(cli, ['info'], { timeout: 60_000 });
    return undefined;
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === 'ENOENT') {
      return `no container engine: ${cli} is not installed (bash local/containers/engine.sh installs podman as root)`;
    }
    return `no container engine: '${cli} info' fails: ${(stderr ?? String(error)).trim().split('\n').at(-1)}`;
  }
}

/** `docker` when DOCKER_HOST names an engine and podman is absent; podman otherwise. */
function engineCli(env: NodeJS.ProcessEnv): string {
  const explicit = env.ACM_CERT_EXPORT_CONTAINER_CLI;
  if (explicit !== undefined && explicit !== '') return explicit;
  const hasPodman = (env.PATH ?? '')
    .split(':')
    .some((dir) => dir !== '' && existsSync(join(dir, 'podman')));
  return hasPodman ? 'podman' : 'docker';
}

/** The engine's API socket: DOCKER_HOST's, or a podman service started in `dir`. */
export async function startEngineService(dir: string, env = process.env): Promise<EngineService> {
  const cli = engineCli(env);
  const given = env.DOCKER_HOST;
  if (given !== undefined && given !== '') {
    return { dockerHost: given, cli, stop: async () => {} };
  }
  if (cli !== 'podman') {
    return { dockerHost: 'unix:///var/run/docker.sock', cli, stop: async () => {} };
  }
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'podman.sock');
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([once(child, 'exit'), sleep(10_000)]);
  };
  for (let i = 0; !existsSync(socket); i++) {
    if (child.exitCode !== null || i > 200) {
      await stop();
      throw new Error(`podman system service did not start: ${stderr.trim().slice(0, 300)}`);
    }
    await sleep(50);
  }
  return { dockerHost: `unix://${socket}`, cli, stop };
}
