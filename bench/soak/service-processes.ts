/**
 * The service's processes during a soak: the production bundle started as the image's CMD
 * starts it (bench/process-bench.ts `imageCommand`) with the V8 heap Node picks in the stack's
 * 1-GB task (`taskHeapFlags`: on this 24-GB machine it would pick a young generation four times
 * the task's), one API process and several worker
 * processes, each writing its JSON log lines to a file of its own (one per start, so a killed
 * process's last lines are kept). Worker processes can be killed (SIGKILL) or stopped
 * (SIGTERM) and started again; the first worker and the API are never signalled during the
 * run: theirs are the memory and descriptor figures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../local/paths.ts';
import { imageCommand } from '../process-bench.ts';
import { taskHeapFlags } from './resources.ts';

export type Role = 'api' | 'worker';

export interface ServiceProcess {
  /** e.g. `worker-2`: stable across restarts. */
  readonly name: string;
  readonly role: Role;
  /** Never signalled during the run (its resources are measured). */
  readonly steady: boolean;
  child: ChildProcess;
  /** Starts so far (1 after the first). */
  starts: number;
  logFile: string;
  /** True while it runs (false between a kill and the restart). */
  running: boolean;
  /** Set when the soak signals it: any other exit is a crash. */
  expectingExit: boolean;
}

export interface ServiceProcessesOptions {
  /** Where the bundle was built (its dist/ is the image's). */
  readonly app: string;
  readonly logDir: string;
  readonly env: Record<string, string>;
  readonly apiPort: number;
}

export class ServiceProcesses {
  readonly all: ServiceProcess[] = [];
  readonly logFiles: string[] = [];
  /** Called after a process starts again (the resource sampler watches its new pid). */
  onStart: () => void = () => {};
  /** Processes that exited without being signalled (a crash): each one fails the run. */
  readonly crashes: string[] = [];
  private readonly argv: string[];
  private readonly imageEnv: Record<string, string>;
  private readonly streams = new Set<WriteStream>();

  private readonly options: ServiceProcessesOptions;

  constructor(options: ServiceProcessesOptions) {
    this.options = options;
    const image = imageCommand(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
    this.argv = image.argv;
    this.imageEnv = image.env;
  }

  get api(): ServiceProcess {
    const api = this.all.find((p) => p.role === 'api');
    if (api === undefined) throw new Error('no API process');
    return api;
  }

  /** The worker processes that may be signalled. */
  signallable(): ServiceProcess[] {
    return this.all.filter((p) => p.role === 'worker' && !p.steady && p.running);
  }

  async startApi(): Promise<ServiceProcess> {
    const p = this.spawnProcess('api', 'api', true, 1);
    this.watchExit(p, p.child);
    this.all.push(p);
    await this.apiReady(60_000);
    return p;
  }

  startWorker(index: number, steady: boolean): ServiceProcess {
    const p = this.spawnProcess(`worker-${index}`, 'worker', steady, 1);
    this.watchExit(p, p.child);
    this.all.push(p);
    return p;
  }

  /** Starts a stopped process again, under the same name. */
  restart(p: ServiceProcess): void {
    if (p.running) throw new Error(`${p.name} is running`);
    const next = this.spawnProcess(p.name, p.role, p.steady, p.starts + 1);
    p.child = next.child;
    p.logFile = next.logFile;
    p.starts = next.starts;
    p.running = true;
    p.expectingExit = false;
    this.watchExit(p, next.child);
    this.onStart();
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 60 s if a SIGTERM is not obeyed). */
  async signal(p: ServiceProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<number | null> {
    const exited = exitOf(p.child);
    p.expectingExit = true;
    p.child.kill(signal);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 60_000);
    try {
      const code = await exited;
      return code;
    } finally {
      clearTimeout(timer);
      p.running = false;
    }
  }

  /** Kills every running process at once (the soak itself was interrupted). */
  killAll(): void {
    for (const p of this.all) {
      if (!p.running) continue;
      p.expectingExit = true;
      p.child.kill('SIGKILL');
    }
  }

  /** Stops every process with SIGTERM (as ECS stops a task) and closes the log files. */
  async stopAll(): Promise<void> {
    await Promise.all(this.all.filter((p) => p.running).map((p) => this.signal(p, 'SIGTERM')));
    await Promise.all(
      [...this.streams].map((s) => new Promise<void>((resolve) => s.end(() => resolve()))),
    );
  }

  async apiReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${this.options.apiPort}/readyz`, {
        signal: AbortSignal.timeout(5000),
      })
        .then(async (r) => {
          await r.arrayBuffer();
          return r.status === 200;
        })
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error('the API process never became ready');
      await sleep(200);
    }
  }

  private spawnProcess(name: string, role: Role, steady: boolean, starts: number): ServiceProcess {
    const [command = 'node', ...args] = this.argv;
    const logFile = join(this.options.logDir, `${name}.${starts}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    this.streams.add(log);
    this.logFiles.push(logFile);
    // The 1-GB task's heap (resources.ts): what Node picks in the task, not on this machine.
    const child = spawn(
      command === 'node' ? process.execPath : command,
      [...taskHeapFlags, ...args],
      {
        cwd: this.options.app,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...this.imageEnv,
          ...this.options.env,
          ...(role === 'api'
            ? { WORKER_ENABLED: 'false', HOST: '127.0.0.1', PORT: String(this.options.apiPort) }
            : { API_ENABLED: 'false' }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const p: ServiceProcess = {
      name,
      role,
      steady,
      child,
      starts,
      logFile,
      running: true,
      expectingExit: false,
    };
    return p;
  }

  private watchExit(p: ServiceProcess, child: ChildProcess): void {
    child.once('exit', (code, signal) => {
      if (p.child !== child) return;
      p.running = false;
      if (!p.expectingExit) this.crashes.push(`${p.name} exited by itself (${signal ?? code})`);
    });
  }
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code as number | null;
}
