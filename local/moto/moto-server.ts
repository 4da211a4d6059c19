import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, venvBin } from '../paths.ts';

/** A moto server process started by this process. */
export interface MotoServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  readonly endpoint: string;
  readonly pid: number;
  /** Stops the process (SIGTERM, then SIGKILL after a grace period). Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** Port to listen on; a free loopback port when omitted. */
  port?: number;
  /** Where moto's stdout/stderr go; discarded when omitted. */
  log?: 'inherit' | 'ignore';
  /** How long to wait for the health check. */
  startTimeoutMs?: number;
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('could not read the bound port'));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

/** Polls moto's health URL until it answers 200 or the deadline passes. */
export async function waitForMoto(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`moto did not become healthy at ${endpoint} within ${timeoutMs} ms`);
}

/**
 * Starts moto_server from the project's .venv on loopback and waits until it is healthy.
 * The child gets PR_SET_PDEATHSIG through local/moto/launch.py, so it dies with this process
 * even when this process is killed without running any cleanup.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const python = venvBin('python');
  venvBin('moto_server');
  const port = options.port ?? (await freeLoopbackPort());
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, [join(repoRoot, 'local/moto/launch.py'), '127.0.0.1', String(port)], {
    stdio: ['ignore', options.log ?? 'ignore', options.log ?? 'ignore'],
    env: { ...process.env, MOTO_ACM_VALIDATION_WAIT: '0', PYTHONUNBUFFERED: '1' },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start moto_server');
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    await waitForMoto(endpoint, child, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, pid, stop };
}

/** Clears every resource in every service: POST /moto-api/reset. */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}
