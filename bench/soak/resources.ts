/**
 * Resources of the soak's processes through the run (issue 16 point 4): each watched process's
 * resident memory (`VmRSS` of /proc/<pid>/status) and its open file descriptors (the entries of
 * /proc/<pid>/fd), sampled at an interval. The soak kills and restarts processes: one that has
 * exited is skipped (and its exit noted once), and one whose pid was reused by another process
 * since it was watched is recognised by its start time (/proc/<pid>/stat) and treated as exited.
 * Whether the samples stayed flat is the pure `resourceVerdict` (resources-verdict.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ResourceSample } from './resources-verdict.ts';

export {
  type LifeVerdict,
  type ResourceCheck,
  type ResourceSample,
  type ResourceVerdict,
  resourceVerdict,
  type VerdictOptions,
  verdictLines,
  type WarmUp,
} from './resources-verdict.ts';

/**
 * MB the API process's RSS may swing above the soak's 10 % (`rssSwingMbByProcess`), its end
 * back within 10 %: the young generation's maximum in the task's heap (`taskHeapFlags`, 3 × the
 * 16-MB semi-space). Measured (docs/benchmarks.md, Memory over many deployments, The API
 * process): the API's heap after a full GC stays at 24–26 MB and its external memory at 5–7 MB
 * over 2,400 requests (nothing retained), but its RSS rises 30–60 MB above what its heap holds —
 * semi-spaces V8 grows under a burst (32 MB committed) and shrinks at a slow pace, and freed
 * memory V8 and the allocator keep resident — to ~140 MB at the soak's pace and ~155 MB back to
 * back, and one full GC gives ~30 MB of it back. The soak saw +39 MB over its baseline.
 */
export const apiRssSwingMb = 3 * 16;

/**
 * Node flags that give a process on any machine the V8 heap the service has in the stack's
 * default task (1 GB, `memoryMiB`): Node 24 sizes V8's heap from the memory it may use, and in a
 * container limited to 1 GB (podman `--memory 1g`, the image's Node) it picks a 512-MB old
 * generation and 16-MB semi-spaces (heap limit 560 MB = 512 + 3 × 16; with these flags on this
 * 24-GB machine, the same 560 MB), where on this machine it picks 64-MB semi-spaces whose
 * garbage swings RSS between 150 and 260 MB. A soak that judges RSS runs the service with these
 * (before the CMD's own flags), so that it measures the service as the task runs it.
 * docs/benchmarks.md, Memory over many deployments, has the runs.
 */
export const taskHeapFlags: readonly string[] = [
  '--max-old-space-size=512',
  '--max-semi-space-size=16',
];

/** What one reading of a process gives. */
export interface ProcessResources {
  readonly rssMb: number;
  readonly fds: number;
}

/**
 * The process's start time in clock ticks after boot (field 22 of /proc/<pid>/stat): with the
 * pid, it names one process; `undefined` when there is no such process.
 */
export function processStartTicks(pid: number, procRoot = '/proc'): number | undefined {
  const stat = readOrUndefined(() => readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/**
 * VmRSS (MB) and the number of open descriptors of a process, or `undefined` when it has exited
 * (or exits while it is read). A zombie has no VmRSS: exited too.
 */
export function readProcessResources(
  pid: number,
  procRoot = '/proc',
): ProcessResources | undefined {
  const status = readOrUndefined(() => readFileSync(`${procRoot}/${pid}/status`, 'utf8'));
  const kb = status === undefined ? undefined : /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) return undefined;
  const fds = readOrUndefined(() => readdirSync(`${procRoot}/${pid}/fd`).length);
  if (fds === undefined) return undefined;
  return { rssMb: Number(kb) / 1024, fds };
}

/** A process that was watched and is gone (or whose pid now names another process). */
export interface ProcessExit {
  readonly process: string;
  readonly pid: number;
  /** The first sampling that found it gone. */
  readonly at: number;
}

export interface ResourceSamplerOptions {
  /** Time between samplings, ms. */
  readonly intervalMs: number;
  /** The clock samples are stamped with (ms); Date.now. */
  readonly now?: () => number;
  /** Where /proc is (a directory laid out like it, in tests). */
  readonly procRoot?: string;
}

interface Watched {
  readonly pid: number;
  readonly startTicks: number | undefined;
  gone: boolean;
}

/**
 * Samples the watched processes every `intervalMs` once started (the timer does not keep Node
 * alive), or when `sampleNow` is called. `watch(name, pid)` again under a name gives it a new
 * process (a restart): the samples of each (name, pid) are one life to the verdict.
 */
export class ResourceSampler {
  readonly #options: ResourceSamplerOptions;
  readonly #now: () => number;
  readonly #watched = new Map<string, Watched>();
  readonly #samples: ResourceSample[] = [];
  readonly #exits: ProcessExit[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ResourceSamplerOptions) {
    if (!(options.intervalMs > 0)) throw new Error('intervalMs must be above 0');
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Watches `pid` under `name` (replacing the process the name had). */
  watch(name: string, pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a pid: ${pid}`);
    const startTicks = processStartTicks(pid, this.#options.procRoot);
    this.#watched.set(name, { pid, startTicks, gone: false });
  }

  /** Stops watching `name`. */
  unwatch(name: string): void {
    this.#watched.delete(name);
  }

  /** Reads every watched process once; returns the samples taken (none for exited ones). */
  sampleNow(): ResourceSample[] {
    const at = this.#now();
    const taken: ResourceSample[] = [];
    for (const [name, w] of this.#watched) {
      if (w.gone) continue;
      const reused =
        w.startTicks !== undefined &&
        processStartTicks(w.pid, this.#options.procRoot) !== w.startTicks;
      const r = reused ? undefined : readProcessResources(w.pid, this.#options.procRoot);
      if (r === undefined) {
        w.gone = true;
        this.#exits.push({ process: name, pid: w.pid, at });
        continue;
      }
      taken.push({ process: name, pid: w.pid, at, rssMb: r.rssMb, fds: r.fds });
    }
    this.#samples.push(...taken);
    return taken;
  }

  /** Samples now and then every `intervalMs` until `stop`. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sampleNow();
    this.#timer = setInterval(() => this.sampleNow(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Every sample so far, in the order taken. */
  get samples(): readonly ResourceSample[] {
    return this.#samples;
  }

  /** Every watched process found gone, in the order found. */
  get exits(): readonly ProcessExit[] {
    return this.#exits;
  }
}

function readOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    // ENOENT: no such process; ESRCH: it exited while being read. Anything else (EACCES: another
    // user's process) is the caller's mistake, not an exit.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
}
