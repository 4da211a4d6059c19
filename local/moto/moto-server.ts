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
  /**
   * true: moto as published, without the project's patches (launch.py --stock). Only for
   * tests that show what the patches change.
   */
  stock?: boolean;
}

/** How much of moto's stderr an early-exit error quotes (a patch's traceback fits). */
const stderrTailChars = 4000;

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

/**
 * moto's environment: this process's, without empty AWS_* variables. botocore, which moto uses
 * internally, takes an empty AWS_PROFILE (as the test runner sets it) for a profile named ""
 * and then fails every request with HTTP 500.
 */
export function motoEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const kept = Object.entries(env).filter(
    ([name, value]) => !(name.startsWith('AWS_') && value === ''),
  );
  return { ...Object.fromEntries(kept), MOTO_ACM_VALIDATION_WAIT: '0', PYTHONUNBUFFERED: '1' };
}

/** Polls moto's health URL until it answers 200 or the deadline passes. */
export async function waitForMoto(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  stderrTail: () => Promise<string> = async () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = (await stderrTail()).trim();
      throw new Error(
        `moto exited early (code ${child.exitCode}, signal ${child.signalCode})` +
          (tail === '' ? '' : `:\n${tail}`),
      );
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
 * even when this process is killed without running any cleanup. If moto exits before it is
 * healthy (a patch in local/moto that no longer fits moto, say), the error quotes its stderr.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const python = venvBin('python');
  venvBin('moto_server');
  const port = options.port ?? (await freeLoopbackPort());
  const endpoint = `http://127.0.0.1:${port}`;
  const args = [join(repoRoot, 'local/moto/launch.py'), '127.0.0.1', String(port)];
  if (options.stock === true) args.push('--stock');
  const log = options.log ?? 'ignore';
  const child = spawn(python, args, {
    // Discarded output still passes through here until moto is healthy: see stderrTail.
    stdio: ['ignore', log, log === 'inherit' ? 'inherit' : 'pipe'],
    env: motoEnvironment(),
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start moto_server');
  const closed = new Promise<void>((resolveClose) => child.once('close', () => resolveClose()));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-stderrTailChars);
  });
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
    // An exit can be seen before the last of stderr is read: wait (briefly) for the pipes.
    const stderrTail = async () => {
      await Promise.race([closed, sleep(1000)]);
      return stderr;
    };
    await waitForMoto(endpoint, child, options.startTimeoutMs ?? 30_000, stderrTail);
  } catch (error) {
    await stop();
    throw error;
  }
  // Healthy: from now on moto's stderr is only drained (its request log), never kept.
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  return { endpoint, pid, stop };
}

/** Clears every resource in every service: POST /moto-api/reset. */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}
