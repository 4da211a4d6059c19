import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { repoRoot } from '../../../../local/paths.ts';
import type { RunningSystem } from '../../support/running-system.ts';

/** A worker process whose standard output and error are kept, in order, in `output`. */
export type WorkerProcess = ChildProcess & { output: string[] };

/**
 * A worker as its own process: the real entry point (service/src/main.ts) with the running
 * system's environment, API off, and `env` on top (visibility timeout, log level, …).
 */
export function startWorkerProcess(
  system: RunningSystem,
  env: Record<string, string>,
): WorkerProcess {
  const child = spawn(process.execPath, ['service/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, ...system.env, API_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as WorkerProcess;
  child.output = [];
  child.stdout?.on('data', (b: Buffer) => child.output.push(String(b)));
  child.stderr?.on('data', (b: Buffer) => child.output.push(String(b)));
  return child;
}

/** Waits until the process has written `text`. */
export async function logged(child: { output: string[] }, text: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!child.output.join('').includes(text)) {
    if (Date.now() > deadline) throw new Error(`never logged ${text}:\n${child.output.join('')}`);
    await sleep(20);
  }
}

/** The exit code, also when the process exited already (a late `once` would wait forever). */
export async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code as number | null;
}

/** The commands the stand-in was sent for `jobId` (their comment ends with it). */
export async function commandsFor(system: RunningSystem, jobId: string) {
  const out = await system.standIn.ssm.send(new ListCommandsCommand({}));
  return (out.Commands ?? []).filter((c) => c.Comment?.endsWith(jobId));
}
