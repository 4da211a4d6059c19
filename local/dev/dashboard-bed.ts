/**
 * The dashboard on the local run, for its headless-Chromium test and the screenshots in docs/:
 * the local run (local/dev/run-local.ts: moto, the Run Command stand-in with two servers, the
 * seeding and the service) in a state directory of its own, the demo certificate deployed
 * through the CLI (`npm run demo`'s local/dev/demo.ts), and `acm-cert-export dashboard` started
 * as the demo IAM user, as a user would start it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from '../moto/moto-server.ts';
import { repoRoot } from '../paths.ts';
import { type Demo, demoCliEnvironment } from './demo-cli-env.ts';

/** Where Debian (and Ubuntu's deb) put Chromium; CHROMIUM_PATH first. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
}

/** Chromium's flags here: no sandbox as root (Chromium refuses to start otherwise). */
export function chromiumArgs(): string[] {
  return [
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    '--disable-dev-shm-usage',
    '--lang=en-GB',
  ];
}

export interface DashboardBed {
  /** The dashboard's URL, e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  readonly demo: Demo;
  /** What the local run, the deploys and the dashboard printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts a process; its output is appended to `log`. */
function start(args: string[], env: NodeJS.ProcessEnv, log: string[]): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => log.push(String(b)));
  child.stderr?.on('data', (b: Buffer) => log.push(String(b)));
  return child;
}

async function waitFor(
  child: ChildProcess,
  log: string[],
  pattern: RegExp,
  what: string,
  timeoutMs: number,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = log.join('').match(pattern);
    if (match !== null) return match;
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${what} did not start:\n${log.join('')}`);
    }
    await sleep(200);
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<number | null> {
  if (child === undefined || child.exitCode !== null) return child?.exitCode ?? null;
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

/**
 * The local run with the demo certificate deployed `deploys` times, and the dashboard reading
 * it. `stop()` ends the dashboard (Ctrl-C), then the local run, and removes the state.
 */
export async function startDashboardBed(options: { deploys?: number } = {}): Promise<DashboardBed> {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-bed-'));
  const log: string[] = [];
  let run: ChildProcess | undefined;
  let dashboard: ChildProcess | undefined;
  const stop = async () => {
    await stopChild(dashboard);
    await stopChild(run);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freeLoopbackPort();
    run = start(
      ['local/dev/run-local.ts', '--port', String(port), '--state-dir', dir],
      process.env,
      log,
    );
    await waitFor(run, log, /Ctrl-C stops everything/, 'the local run', 120_000);
    for (let i = 0; i < (options.deploys ?? 1); i++) {
      const demo = start(['local/dev/demo.ts', dir], process.env, log);
      const [code] = (await once(demo, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`npm run demo exited ${code}:\n${log.join('')}`);
    }
    // As the local run prints it: the demo IAM user's keys, the emulator, the API.
    const local = demoCliEnvironment(dir);
    if (local === undefined) throw new Error(`the local run wrote no demo.json in ${dir}`);
    const { demo, env } = local;
    dashboard = start(['service/src/cli/main.ts', 'dashboard', '--port', '0'], env, log);
    const [, url] = await waitFor(
      dashboard,
      log,
      /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/,
      'acm-cert-export dashboard',
      30_000,
    );
    const started = dashboard;
    return {
      url: url ?? '',
      demo,
      output: () => log.join(''),
      stop: async () => {
        const code = await stopChild(started);
        await stop();
        if (code !== 0) throw new Error(`the dashboard exited ${code} on Ctrl-C`);
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
