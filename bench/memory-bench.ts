/**
 * Where the service's memory goes over many deployments (issue 16, point 4): the production
 * bundle, started as the image starts it (process-bench.ts `imageCommand`) with the stack's
 * environment on the bed, consumes rounds of deployments (each to a new mapping, on one instant
 * server, straight on the queue); after each round and a quiet spell it is sampled after a
 * forced full GC, through the inspector (`--inspect` on loopback, port chosen by Node):
 * VmRSS, the anonymous resident memory, and `process.memoryUsage()` (heap used and total,
 * external, array buffers). With `--snapshots`, a heap snapshot after the first and the last
 * round, compared by constructor (count and bytes): what the V8 heap retains between them.
 *
 * `node bench/memory-bench.ts [--rounds 5] [--per-round 100] [--idle-seconds 15]
 *   [--malloc-arena-max N] [--snapshots] [--sources]` — one JSON line per sample, then the
 * comparison. `--sources` runs `node service/src/main.ts` (the TypeScript sources) instead of
 * the bundle; `--gc-at-end-only` forces no GC before the last sample (the heap as V8 leaves it);
 * `--node-flag F` (repeatable) adds a Node flag to the service's command; `--podman-image NAME
 * [--podman-memory 1g]` runs the image's own Node and bundle in a container with that memory limit
 * (on the host's network, where the bed listens), as a task of that size has it. Each sample after a
 * round carries the round's pace: its wall time, the service's CPU time per deployment
 * (/proc/<pid>/stat) and its garbage collections (a PerformanceObserver of `gc` entries installed
 * through the inspector; their durations are wall time, inflated by a loaded machine).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { freeLoopbackPort } from '../local/moto/moto-server.ts';
import { repoRoot } from '../local/paths.ts';
import { buildService } from '../service/build.ts';
import { type Deployment, isTerminal } from '../service/src/domain/deployment.ts';
import { addServers, type BenchSystem, startBenchSystem } from './bench-system.ts';
import { byConstructor, type HeapSnapshot } from './heap-snapshot.ts';
import { cpuMs, imageCommand, residentMb } from './process-bench.ts';
import { round } from './stats.ts';

const run = promisify(execFile);

/** A Chrome DevTools protocol session on the service's inspector (Node's global WebSocket). */
export async function inspector(url: string) {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`no inspector at ${url}`)), { once: true });
  });
  let next = 1;
  const pending = new Map<number, (m: { result?: unknown; error?: unknown }) => void>();
  const chunks: string[] = [];
  ws.addEventListener('message', (event) => {
    const m = JSON.parse(String(event.data)) as {
      id?: number;
      method?: string;
      params?: { chunk?: string };
      result?: unknown;
      error?: unknown;
    };
    if (m.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(m.params?.chunk ?? '');
    if (m.id !== undefined) {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = next++;
      pending.set(id, (m) =>
        m.error === undefined ? resolve(m.result) : reject(new Error(JSON.stringify(m.error))),
      );
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    /**
     * process.memoryUsage() in bytes, after a full GC with `gc`, and the size (`spaces`) and the
     * bytes in use (`spacesUsed`) of V8's new (young generation) and old spaces.
     */
    async usage(gc: boolean): Promise<HeapUsage> {
      if (gc) await call('HeapProfiler.collectGarbage');
      const r = (await call('Runtime.evaluate', {
        expression: `JSON.stringify({...process.memoryUsage(),
          heapLimit: process.getBuiltinModule('v8').getHeapStatistics().heap_size_limit,
          spaces: Object.fromEntries(
          process.getBuiltinModule('v8').getHeapSpaceStatistics()
            .map((s) => [s.space_name, s.space_size])),
          spacesUsed: Object.fromEntries(
          process.getBuiltinModule('v8').getHeapSpaceStatistics()
            .map((s) => [s.space_name, s.space_used_size]))})`,
        returnByValue: true,
      })) as { result: { value: string } };
      return JSON.parse(r.result.value) as HeapUsage;
    },
    /** A heap snapshot (forces a GC first), parsed. */
    async snapshot(): Promise<HeapSnapshot> {
      chunks.length = 0;
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      return JSON.parse(chunks.join('')) as HeapSnapshot;
    },
    /**
     * Starts counting the process's garbage collections (a PerformanceObserver of `gc` entries:
     * the main thread's pauses, by kind) into a global that `gcTotals` reads.
     */
    async countGc(): Promise<void> {
      await call('Runtime.evaluate', {
        expression: `globalThis.__benchGc = { count: 0, ms: 0, scavenges: 0, scavengeMs: 0 };
          new (process.getBuiltinModule('perf_hooks').PerformanceObserver)((list) => {
            for (const e of list.getEntries()) {
              globalThis.__benchGc.count += 1; globalThis.__benchGc.ms += e.duration;
              if (e.detail?.kind === 1) { globalThis.__benchGc.scavenges += 1; globalThis.__benchGc.scavengeMs += e.duration; }
            }
          }).observe({ entryTypes: ['gc'] }); 0`,
      });
    },
    async gcTotals(): Promise<{
      count: number;
      ms: number;
      scavenges: number;
      scavengeMs: number;
    }> {
      const r = (await call('Runtime.evaluate', {
        expression: 'JSON.stringify(globalThis.__benchGc)',
        returnByValue: true,
      })) as { result: { value: string } };
      return JSON.parse(r.result.value) as {
        count: number;
        ms: number;
        scavenges: number;
        scavengeMs: number;
      };
    },
    close: () => ws.close(),
  };
}

/** What `usage` reads: process.memoryUsage(), the heap limit and V8's spaces, in bytes. */
export type HeapUsage = NodeJS.MemoryUsage & {
  heapLimit: number;
  spaces: Record<string, number>;
  spacesUsed: Record<string, number>;
};

/** Anonymous resident memory (heap, malloc arenas, stacks) of a process in MB. */
export function anonymousMb(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = /^Anonymous:\s+(\d+)\s+kB/m.exec(rollup)?.[1];
  return Number(kb ?? 0) / 1024;
}

/**
 * The service started as the image starts it (or the sources, or the image in podman) with the
 * bed's environment (`system.serviceEnv`) and `--inspect` on loopback, once /readyz answers 200.
 */
export async function startService(
  app: string,
  system: BenchSystem,
  mallocArenaMax: string | undefined,
  sources: boolean,
  nodeFlags: readonly string[],
  container: Container | undefined,
): Promise<{ child: ChildProcess; inspectorUrl: string; pid: number; port: number }> {
  const { argv, env: imageEnv } = imageCommand(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  // The bundle as the image runs it, or (`--sources`) the TypeScript sources as `npm start` does.
  const args = sources ? ['service/src/main.ts'] : argv.slice(1);
  const port = await freeLoopbackPort();
  const env = {
    ...imageEnv,
    ...system.serviceEnv,
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: String(port),
    ...(mallocArenaMax === undefined ? {} : { MALLOC_ARENA_MAX: mallocArenaMax }),
  };
  const nodeArgs = ['--inspect=127.0.0.1:0', ...nodeFlags, ...args];
  // In a container: the image's own Node and bundle (its WORKDIR /app), on the host's network
  // (the bed listens on loopback), with a memory limit: Node sizes V8's heap from it.
  const child =
    container === undefined
      ? spawn(process.execPath, nodeArgs, {
          cwd: sources ? repoRoot : app,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        })
      : spawn(
          'podman',
          [
            'run',
            '--rm',
            '--name',
            container.name,
            '--network',
            'host',
            '--memory',
            container.memory,
            ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
            container.image,
            'node',
            ...nodeArgs,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
  let stderr = '';
  const inspectorUrl = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(stderr)?.[0];
      if (url !== undefined) resolve(url);
    });
    child.on('exit', (code) => reject(new Error(`the service exited ${code}: ${stderr}`)));
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status === 200;
      })
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`/readyz did not answer 200 in 60 s: ${stderr}`);
    await sleep(100);
  }
  if (container === undefined) return { child, inspectorUrl, pid: child.pid ?? 0, port };
  const inspected = await run('podman', ['inspect', '--format', '{{.State.Pid}}', container.name]);
  return { child, inspectorUrl, pid: Number(inspected.stdout.trim()), port };
}

/** `--podman-image` and `--podman-memory`: the service in a container of its own. */
interface Container {
  readonly image: string;
  readonly memory: string;
  readonly name: string;
}

/** Queues `ids` as deploy jobs (one new mapping each) and waits until every record is terminal. */
async function deployRound(system: BenchSystem, ids: string[], target: string): Promise<number> {
  for (let i = 0; i < ids.length; i += 10) {
    await system.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: system.provisioned.queueUrl,
        Entries: ids.slice(i, i + 10).map((id) => ({
          Id: id,
          MessageBody: JSON.stringify({
            type: 'deploy',
            version: 1,
            jobId: id,
            certificateArn: system.certificateArn,
            certName: id,
            target: { key: 'env', value: target },
          }),
        })),
      }),
    );
  }
  const table = system.provisioned.names.deploymentsTable;
  const left = new Set(ids);
  let failed = 0;
  const deadline = Date.now() + 600_000;
  while (left.size > 0) {
    for (const batch of chunk([...left], 100)) {
      const out = await system.clients.dynamodb.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: { Keys: batch.map((JobId) => ({ JobId })), ConsistentRead: true },
          },
        }),
      );
      for (const item of out.Responses?.[table] ?? []) {
        const d = item.Data as Deployment | undefined;
        if (d !== undefined && isTerminal(d.status)) {
          left.delete(d.job.jobId);
          if (d.status !== 'Succeeded') failed += 1;
        }
      }
    }
    if (left.size === 0) break;
    if (Date.now() > deadline) throw new Error(`${left.size} jobs did not finish in 10 minutes`);
    await sleep(500);
  }
  return failed;
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      'per-round': { type: 'string', default: '100' },
      'idle-seconds': { type: 'string', default: '15' },
      'malloc-arena-max': { type: 'string' },
      snapshots: { type: 'boolean', default: false },
      sources: { type: 'boolean', default: false },
      'gc-at-end-only': { type: 'boolean', default: false },
      'node-flag': { type: 'string', multiple: true, default: [] },
      'podman-image': { type: 'string' },
      'podman-memory': { type: 'string', default: '1g' },
    },
  });
  const container =
    values['podman-image'] === undefined
      ? undefined
      : {
          image: values['podman-image'],
          memory: values['podman-memory'],
          name: `acm-cert-export-memory-${process.pid}`,
        };
  const rounds = Number(values.rounds);
  const perRound = Number(values['per-round']);
  const idleMs = Number(values['idle-seconds']) * 1000;
  const system = await startBenchSystem({});
  const app = mkdtempSync(join(tmpdir(), 'acm-cert-export-memory-'));
  let child: ChildProcess | undefined;
  try {
    const target = 'bench-memory';
    await addServers(system.clients.ec2, target, 1, 'instant');
    if (!values.sources && container === undefined) await buildService(join(app, 'dist'));
    const started = await startService(
      app,
      system,
      values['malloc-arena-max'],
      values.sources,
      values['node-flag'],
      container,
    );
    child = started.child;
    const pid = started.pid;
    const session = await inspector(started.inspectorUrl);
    await session.countGc();
    const sample = async (
      label: string,
      deployments: number,
      failed: number,
      end = false,
      pace?: { seconds: number; cpuMs: number; count: number; gcMs: number; gcs: number },
    ) => {
      const rssBeforeGc = residentMb(pid);
      const before = await session.usage(false);
      const u = await session.usage(end || !values['gc-at-end-only']);
      const line = {
        sample: label,
        deployments,
        failed,
        rss_mb: round(residentMb(pid), 1),
        rss_before_gc_mb: round(rssBeforeGc, 1),
        heap_used_before_gc_mb: mb(before.heapUsed),
        heap_total_before_gc_mb: mb(before.heapTotal),
        new_space_before_gc_mb: mb(before.spaces.new_space ?? 0),
        old_space_before_gc_mb: mb(before.spaces.old_space ?? 0),
        anonymous_mb: round(anonymousMb(pid), 1),
        heap_used_mb: mb(u.heapUsed),
        heap_total_mb: mb(u.heapTotal),
        external_mb: mb(u.external),
        array_buffers_mb: mb(u.arrayBuffers),
        ...(pace === undefined
          ? {}
          : {
              round_seconds: round(pace.seconds, 1),
              deployments_per_second: round(pace.count / pace.seconds, 2),
              round_cpu_ms: round(pace.cpuMs, 0),
              cpu_ms_per_deployment: round(pace.cpuMs / pace.count, 1),
              round_gc_count: pace.gcs,
              gc_ms_per_deployment: round(pace.gcMs / pace.count, 2),
            }),
        malloc_arena_max: values['malloc-arena-max'] ?? 'unset',
        forced_gc: end || !values['gc-at-end-only'],
        node_flags: values['node-flag'].join(' '),
        process: values.sources
          ? 'node service/src/main.ts'
          : container !== undefined
            ? `the image ${container.image} in podman --memory ${container.memory}`
            : "the bundle (the image's CMD)",
        heap_size_limit_mb: mb(u.heapLimit),
        load_1m: round(loadavg()[0] ?? 0, 2),
        cpus: cpus().length,
      };
      console.log(JSON.stringify(line));
      return line;
    };
    await sleep(idleMs);
    await sample('started, idle', 0, 0);
    let done = 0;
    let first: Map<string, { count: number; bytes: number }> | undefined;
    let last: Map<string, { count: number; bytes: number }> | undefined;
    for (let r = 1; r <= rounds; r++) {
      const ids = Array.from(
        { length: perRound },
        (_, i) => `mem-${r}-${String(i).padStart(4, '0')}`,
      );
      const t0 = performance.now();
      const cpu0 = cpuMs(pid);
      const gc0 = await session.gcTotals();
      const failed = await deployRound(system, ids, target);
      const gc1 = await session.gcTotals();
      const pace = {
        seconds: (performance.now() - t0) / 1000,
        cpuMs: cpuMs(pid) - cpu0,
        count: perRound,
        gcMs: gc1.ms - gc0.ms,
        gcs: gc1.count - gc0.count,
      };
      done += perRound;
      await sleep(idleMs);
      await sample(`after round ${r}`, done, failed, false, pace);
      if (values.snapshots && (r === 1 || r === rounds)) {
        const counts = byConstructor(await session.snapshot());
        if (r === 1) first = counts;
        else last = counts;
        // The snapshot itself costs memory: sample again, as the next round starts from here.
        await sample(`after round ${r}'s snapshot`, done, 0);
      }
    }
    await sleep(Math.max(idleMs, 30_000));
    await sample('idle 30 s after the last round', done, 0, true);
    if (first !== undefined && last !== undefined) {
      const rows = [...new Set([...first.keys(), ...last.keys()])]
        .map((k) => {
          const a = first.get(k) ?? { count: 0, bytes: 0 };
          const b = last.get(k) ?? { count: 0, bytes: 0 };
          return { what: k, count: b.count - a.count, bytes: b.bytes - a.bytes, total: b.bytes };
        })
        .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes))
        .slice(0, 25);
      const sum = (m: Map<string, { bytes: number }>) =>
        [...m.values()].reduce((n, e) => n + e.bytes, 0);
      console.log(
        JSON.stringify({
          heap_snapshot_diff: `round 1 → round ${rounds} (${(rounds - 1) * perRound} deployments)`,
          snapshot_mb: [mb(sum(first)), mb(sum(last))],
        }),
      );
      for (const row of rows) console.log(JSON.stringify(row));
    }
    session.close();
  } finally {
    if (container !== undefined) {
      await run('podman', ['rm', '--force', '--time', '0', container.name]).catch(() => undefined);
    }
    if (child !== undefined && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(app, { recursive: true, force: true });
    await system.stop();
  }
}

if (import.meta.main) await main();
