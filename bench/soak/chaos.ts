/**
 * The soak's process faults, each a Poisson process with its own mean interval: a worker
 * process killed outright (SIGKILL, as when the OOM killer or a lost host ends a task) and
 * started again a few seconds later; a worker stopped (SIGTERM, as ECS stops a task at scale-in
 * or a deployment) and started again once it exited; the Run Command stand-in's API restarted.
 * The first worker and the API process are never signalled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultOptions } from './options.ts';
import type { Random } from './random.ts';
import type { ServiceProcesses } from './service-processes.ts';
import type { SoakBed } from './soak-bed.ts';

export interface ChaosRecord {
  kills: number;
  terms: number;
  standInRestarts: number;
  /** Workers SIGTERM'd before their handler was in place (ended by the signal: not an error). */
  stoppedWhileStarting: number;
  /** A SIGTERM'd worker that did not exit 0, or a process that exited without being signalled. */
  readonly anomalies: string[];
}

export class Chaos {
  readonly record: ChaosRecord = {
    kills: 0,
    terms: 0,
    standInRestarts: 0,
    stoppedWhileStarting: 0,
    anomalies: [],
  };
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  /** Processes a fault has taken down and not yet started again. */
  private readonly down = new Set<string>();

  private readonly bed: SoakBed;
  private readonly processes: ServiceProcesses;
  private readonly random: Random;
  private readonly faults: FaultOptions;
  private readonly log: (line: string) => void;

  constructor(
    bed: SoakBed,
    processes: ServiceProcesses,
    random: Random,
    faults: FaultOptions,
    log: (line: string) => void,
  ) {
    this.bed = bed;
    this.processes = processes;
    this.random = random;
    this.faults = faults;
    this.log = log;
  }

  /**
   * Starts the faults. The first of each kind comes within the first half of `runMs` (and is
   * tried again a second later while no worker can take it), so that a short run, CI's 3
   * minutes, has every fault at least once; the rest follow their mean interval.
   */
  start(runMs: number): void {
    const { killEvery, termEvery, standInRestartEvery } = this.faults;
    if (killEvery > 0) this.loops.push(this.every(killEvery, runMs, () => this.kill()));
    if (termEvery > 0) this.loops.push(this.every(termEvery, runMs, () => this.term()));
    if (standInRestartEvery > 0) {
      this.loops.push(this.every(standInRestartEvery, runMs, () => this.restartStandIn()));
    }
  }

  /** Stops making faults and waits until every process a fault took down runs again. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async every(
    meanSeconds: number,
    runMs: number,
    fault: () => Promise<boolean>,
  ): Promise<void> {
    let wait = Math.min(
      this.random.exponential(meanSeconds * 1000),
      (this.random.next() * runMs) / 2,
    );
    let first = true;
    for (;;) {
      const until = Date.now() + wait;
      while (!this.stopping && Date.now() < until) {
        await sleep(Math.max(1, Math.min(500, until - Date.now())));
      }
      if (this.stopping) return;
      let delivered = false;
      try {
        delivered = await fault();
      } catch (error) {
        this.record.anomalies.push(`fault failed: ${(error as Error).message}`);
      }
      if (first && !delivered) {
        wait = 1000;
        continue;
      }
      first = false;
      wait = this.random.exponential(meanSeconds * 1000);
    }
  }

  private victim() {
    const candidates = this.processes.signallable().filter((p) => !this.down.has(p.name));
    return candidates.length === 0 ? undefined : this.random.pick(candidates);
  }

  private async kill(): Promise<boolean> {
    const p = this.victim();
    if (p === undefined) return false;
    this.down.add(p.name);
    try {
      this.log(`SIGKILL ${p.name}`);
      await this.processes.signal(p, 'SIGKILL');
      this.record.kills++;
      await sleep(this.random.int(1000, 5000));
      this.processes.restart(p);
    } finally {
      this.down.delete(p.name);
    }
    return true;
  }

  private async term(): Promise<boolean> {
    const p = this.victim();
    if (p === undefined) return false;
    this.down.add(p.name);
    try {
      this.log(`SIGTERM ${p.name}`);
      const code = await this.processes.signal(p, 'SIGTERM');
      this.record.terms++;
      // A worker stopped while it was still starting, before its SIGTERM handler was in place,
      // ends by the signal itself, as any process would; it held nothing yet or its messages come
      // back at their visibility timeout, as after a crash (the invariants check both). Anything
      // else but exit 0 (a failing exit, or the SIGKILL after 60 s of not stopping) is wrong.
      const signal = p.child.signalCode;
      if (code === null && signal === 'SIGTERM') this.record.stoppedWhileStarting++;
      else if (code !== 0) {
        this.record.anomalies.push(`${p.name} exited ${code ?? signal} after SIGTERM`);
      }
      this.processes.restart(p);
    } finally {
      this.down.delete(p.name);
    }
    return true;
  }

  private async restartStandIn(): Promise<boolean> {
    const downMs = this.random.int(1000, 5000);
    this.log(`restarting the Run Command stand-in's API (${downMs} ms down)`);
    await this.bed.standIn.restartApi({ downMs });
    this.record.standInRestarts++;
    return true;
  }
}
