/**
 * Runs one step's script for real: bash in its own process group, with a timeout and
 * cancellation that signal the whole group (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ScriptJob {
  readonly scriptText: string;
  /** Where the script is written (like the agent's orchestration/<command>/<step>/_script.sh). */
  readonly scriptFile: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  /** Aborting it cancels the run. */
  readonly signal: AbortSignal;
}

export interface ScriptOutcome {
  readonly kind: 'exited' | 'timed-out' | 'cancelled';
  /** The exit code, or -1 when the script was killed. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Output kept per stream; what callers report is cut further (24,000 / 8,000 characters). */
const maxCapture = 1_000_000;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Longest delay setTimeout honours (longer ones fire at once). */
const maxTimerMs = 2 ** 31 - 1;

/**
 * Resolves after `ms` (never when it is Infinity), or at once when `signal` aborts; says which
 * happened.
 */
export function wait(ms: number, signal: AbortSignal): Promise<'elapsed' | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolveWait) => {
    const timer = Number.isFinite(ms)
      ? setTimeout(
          () => {
            signal.removeEventListener('abort', onAbort);
            resolveWait('elapsed');
          },
          Math.min(Math.max(ms, 0), maxTimerMs),
        )
      : undefined;
    const onAbort = () => {
      clearTimeout(timer);
      resolveWait('aborted');
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function runScript(job: ScriptJob): Promise<ScriptOutcome> {
  await mkdir(dirname(job.scriptFile), { recursive: true });
  await writeFile(job.scriptFile, job.scriptText, { mode: 0o700 });
  if (job.signal.aborted) return { kind: 'cancelled', exitCode: -1, stdout: '', stderr: '' };
  const child = spawn('bash', [job.scriptFile], {
    cwd: job.cwd,
    env: { ...job.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (out.stdout.length < maxCapture) out.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (out.stderr.length < maxCapture) out.stderr += chunk;
  });
  let stopped: 'timed-out' | 'cancelled' | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = (reason: 'timed-out' | 'cancelled') => {
    if (stopped !== undefined || pid === undefined) return;
    stopped = reason;
    killGroup(pid, 'SIGTERM');
    graceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), job.killGraceMs);
  };
  const timeout = setTimeout(() => stop('timed-out'), Math.min(job.timeoutMs, maxTimerMs));
  const onAbort = () => stop('cancelled');
  job.signal.addEventListener('abort', onAbort, { once: true });

  const exitCode = await new Promise<number>((resolveExit) => {
    child.once('error', () => resolveExit(-1));
    child.once('exit', (code) => resolveExit(code ?? -1));
  });
  clearTimeout(timeout);
  job.signal.removeEventListener('abort', onAbort);
  // A background process left by the script may hold the pipes open: do not wait for it long.
  await Promise.race([
    new Promise((resolveClose) => child.once('close', resolveClose)),
    new Promise((resolveClose) => setTimeout(resolveClose, 500)),
  ]);
  child.stdout.destroy();
  child.stderr.destroy();
  if (stopped !== undefined && pid !== undefined) {
    killGroup(pid, 'SIGKILL');
    clearTimeout(graceTimer);
  }
  if (stopped !== undefined) return { kind: stopped, exitCode: -1, ...out };
  return { kind: 'exited', exitCode, ...out };
}
