import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freeLoopbackPort } from '../local/moto/moto-server.ts';
import { repoRoot } from '../local/paths.ts';
import { buildService } from '../service/build.ts';
import { version } from '../service/src/version.ts';
import type { BenchSystem } from './bench-system.ts';
import { percentile, round } from './stats.ts';

const run = promisify(execFile);

/** The service image's name when the benchmark builds it (`--image`). */
export const benchImageName = 'acm-cert-export:bench';

/**
 * The command and environment the service image runs, read from the Dockerfile's `service`
 * stage (its `ENV` and its exec-form `CMD`), so the benchmark measures what the image runs.
 */
export function imageCommand(dockerfile: string): { argv: string[]; env: Record<string, string> } {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');
  const start = lines.findIndex((l) => /^FROM\s+\S+\s+AS\s+service\s*$/i.test(l.trim()));
  if (start < 0) throw new Error('the Dockerfile has no stage named service');
  const end = lines.findIndex((l, i) => i > start && /^FROM\s/i.test(l.trim()));
  const stage = lines.slice(start + 1, end < 0 ? undefined : end).map((l) => l.trim());
  const env: Record<string, string> = {};
  for (const line of stage.filter((l) => /^ENV\s/i.test(l))) {
    for (const [, k, v] of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) {
      if (k !== undefined && v !== undefined) env[k] = v;
    }
  }
  const cmd = stage.filter((l) => /^CMD\s/i.test(l)).at(-1);
  if (cmd === undefined) throw new Error('the service stage has no CMD');
  const argv: unknown = JSON.parse(cmd.slice(4));
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string') || argv.length === 0) {
    throw new Error(`the service stage's CMD is not an exec-form array: ${cmd}`);
  }
  return { argv: argv as string[], env };
}

/** Resident memory of a process in MB (VmRSS of /proc/<pid>/status, kB). */
export function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

interface Started {
  readonly child: ChildProcess;
  readonly readyMs: number;
  /** CPU time (user + system) the process had used when /readyz first answered 200. */
  readonly cpuMs: number;
}

/** CPU time of a process in ms (utime + stime of /proc/<pid>/stat, in clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Spawns the service and polls /readyz every 5 ms until the first 200; ms from spawn. */
async function startAndWaitReady(
  cwd: string,
  argv: string[],
  env: Record<string, string>,
  port: number,
): Promise<Started> {
  const [command = 'node', ...args] = argv;
  const t0 = performance.now();
  // `node` in the CMD is the image's Node; here, the Node running the benchmark (the same major).
  const child = spawn(command === 'node' ? process.execPath : command, args, {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const url = `http://127.0.0.1:${port}/readyz`;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the service exited ${child.exitCode} before /readyz answered: ${stderr}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 200) {
        const readyMs = performance.now() - t0;
        return { child, readyMs, cpuMs: cpuMs(child.pid ?? 0) };
      }
    } catch {
      // not listening yet
    }
    if (performance.now() - t0 > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`/readyz did not answer 200 within 60 s: ${stderr}`);
    }
    await sleep(5);
  }
}

/**
 * Ends a measured process at once: its start is measured, not its stop (on SIGTERM the worker
 * lets its long polls end, up to WORKER_RECEIVE_WAIT_SECONDS; the container test checks that).
 */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

export interface ProcessBenchOptions {
  /** Starts measured (each to its first 200 from /readyz, then stopped; the last one stays). */
  readonly starts: number;
  /** How long the last process idles before its memory is sampled (once a second, after). */
  readonly idleSeconds: number;
  readonly rssSamples: number;
  /** Build the service image with podman and print its size (about a minute, more from scratch). */
  readonly image: boolean;
  /** Node flags put after the CMD's `node` (to measure a flag before it goes into the CMD). */
  readonly nodeFlags?: readonly string[];
}

/**
 * The production artifact (the Dockerfile's CMD, the bundle built first as `npm run build`
 * builds it, into a directory of its own) with the stack's environment on the bed
 * (bench-system.ts `serviceEnv`: API and worker in one process, 10 consumers, STS
 * authentication; logs at info, as the stack sets them, to nowhere), the worker long-polling the
 * bed's empty job queue: time from spawn to the first 200 from /readyz
 * over several starts, then the resident memory of the last one once idle. With `image`, the
 * service image's size.
 */
export async function measureProcess(system: BenchSystem, options: ProcessBenchOptions) {
  // Built into a directory of its own, as the image's /app holds it (dist/ and nothing else: no
  // node_modules to fall back on), and apart from the checkout's dist/.
  const app = mkdtempSync(join(tmpdir(), 'acm-cert-export-process-'));
  await buildService(join(app, 'dist'));
  const image = imageCommand(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  const { env: imageEnv } = image;
  const argv = [...image.argv.slice(0, 1), ...(options.nodeFlags ?? []), ...image.argv.slice(1)];
  const port = await freeLoopbackPort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...imageEnv,
    ...system.serviceEnv,
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: String(port),
  };
  const starts: Started[] = [];
  let last: Started | undefined;
  try {
    for (let i = 0; i < options.starts; i++) {
      if (last !== undefined) await stop(last.child);
      last = await startAndWaitReady(app, argv, env, port);
      starts.push(last);
    }
    if (last === undefined) throw new Error('starts must be at least 1');
    const pid = last.child.pid ?? 0;
    await sleep(options.idleSeconds * 1000);
    const rss: number[] = [];
    for (let i = 0; i < options.rssSamples; i++) {
      if (i > 0) await sleep(1000);
      rss.push(residentMb(pid));
    }
    const command = argv.join(' ');
    return [
      {
        figure: 'process_start_ms',
        value: round(
          percentile(
            starts.map((s) => s.readyMs),
            50,
          ),
          0,
        ),
        starts_ms: starts.map((s) => round(s.readyMs, 0)),
        cpu_ms_p50: round(
          percentile(
            starts.map((s) => s.cpuMs),
            50,
          ),
          0,
        ),
        what: `spawn to the first 200 from /readyz, median of ${starts.length} starts; cpu_ms: the process's CPU time by then (less sensitive to the machine's load)`,
        command,
      },
      {
        figure: 'process_idle_rss_mb',
        value: round(percentile(rss, 50), 1),
        max: round(Math.max(...rss), 1),
        what: `VmRSS after ${options.idleSeconds} s idle (API and worker, 10 consumers long-polling an empty queue), median of ${rss.length} samples 1 s apart`,
        command,
      },
      await imageSize(options.image),
    ];
  } finally {
    if (last !== undefined) await stop(last.child);
    rmSync(app, { recursive: true, force: true });
  }
}

/** The service image's size, built here with podman (root, base images as the container test). */
async function imageSize(build: boolean) {
  const figure = 'image_size_mb';
  if (!build) {
    return {
      figure,
      value: null,
      not_measured:
        'the image is built only with npm run bench -- --image (podman, about a minute)',
    };
  }
  const engine = await run('bash', ['local/containers/engine.sh'], { cwd: repoRoot }).then(
    () => undefined,
    (error: { stdout?: string; message: string }) => error.stdout?.trim() || error.message,
  );
  if (engine !== undefined) {
    return { figure, value: null, not_measured: `no container engine here: ${engine}` };
  }
  const t0 = performance.now();
  await run('bash', ['local/containers/base-images.sh'], { cwd: repoRoot });
  await run(
    'podman',
    ['build', '--pull=never', '--format', 'docker', '--quiet', '--target', 'service'].concat([
      '--build-arg',
      `VERSION=${version}`,
      '-t',
      benchImageName,
      '.',
    ]),
    { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
  );
  const size = async (image: string) => {
    const { stdout } = await run('podman', ['image', 'inspect', '--format', '{{.Size}}', image]);
    return round(Number(stdout.trim()) / 1e6, 1);
  };
  const base = await size('docker.io/library/node:24-bookworm-slim');
  const value = await size(benchImageName);
  return {
    figure,
    value,
    base_image_mb: base,
    image: benchImageName,
    build_seconds: round((performance.now() - t0) / 1000, 0),
    note: 'podman image size (uncompressed); the base is the local stand-in for node:24-bookworm-slim (local/containers/)',
  };
}

/**
 * `node bench/process-bench.ts [--image] [--starts 5] [--node-flag F]…`: these figures alone, on
 * a bed of their own; `--node-flag` adds a Node flag to the CMD's (repeatable).
 */
if (import.meta.main) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      image: { type: 'boolean', default: false },
      starts: { type: 'string', default: '5' },
      'node-flag': { type: 'string', multiple: true, default: [] },
    },
  });
  const { startBenchSystem } = await import('./bench-system.ts');
  const { emit } = await import('./figures.ts');
  const system = await startBenchSystem({});
  try {
    const figures = await measureProcess(system, {
      starts: Number(values.starts),
      idleSeconds: 10,
      rssSamples: 5,
      image: values.image,
      nodeFlags: values['node-flag'],
    });
    emit(...figures);
  } finally {
    await system.stop();
  }
}
