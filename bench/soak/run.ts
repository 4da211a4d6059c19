/**
 * `npm run soak -- --minutes N [options]` (options: options.ts): the service under a steady mix
 * of traffic for N minutes with faults arriving together — the bed's proxies answering AWS
 * calls with throttling, server errors, latency and dropped connections, worker processes killed
 * and stopped, the Run Command stand-in's API restarted, servers that fail, hang or cannot be
 * reached — then a drain, then the checks (invariants.ts) and the resource verdict
 * (resources.ts). Prints a summary (one line per traffic kind, fault, invariant and resource)
 * and writes it with every process's log to the output directory; exits 1 when an invariant or
 * a resource check fails, 2 on bad options.
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from '../../local/moto/moto-server.ts';
import { repoRoot } from '../../local/paths.ts';
import { buildService } from '../../service/build.ts';
import { Chaos, type ChaosRecord } from './chaos.ts';
import { drain, jobStatuses } from './drain.ts';
import { checkInvariants, collectSecrets, newSecretHarvest } from './invariants.ts';
import { parseSoakOptions, type SoakOptions } from './options.ts';
import { seededRandom } from './random.ts';
import {
  apiRssSwingMb,
  type ResourceSample,
  ResourceSampler,
  type ResourceVerdict,
  resourceVerdict,
} from './resources.ts';
import { ServiceProcesses } from './service-processes.ts';
import { faultsOff, type SoakBed, startSoakBed } from './soak-bed.ts';
import { type Check, formatSummary, passed, type SoakSummary } from './summary.ts';
import { Traffic, trafficMaxInFlight } from './traffic.ts';

const round = (n: number) => Math.round(n * 10) / 10;

/** How often each process's RSS and descriptors are read. */
const resourceIntervalMs = 2000;

/**
 * The resource verdict (resources-verdict.ts), one rule for every process: a warm-up of a third
 * of the run, at least 5 minutes or the whole traffic of a shorter run (whose drain is then
 * judged), and RSS may swing by the young generation's size (`apiRssSwingMb`, 3 × the task's
 * 16-MB semi-spaces) if it ends within 10 %. V8's young
 * generation reaches its size only after a few hundred requests or deployments, later on a
 * loaded machine (a 60-s warm-up failed a worker restarted under load: baseline 118 MB, 149 MB
 * at its end), and V8 gives freed memory back slowly; heap used after a full GC stays flat
 * (docs/benchmarks.md, Memory over many deployments and The API process).
 */
function soakResourceVerdict(samples: readonly ResourceSample[], minutes: number): ResourceVerdict {
  const names = [...new Set(samples.map((s) => s.process))];
  return resourceVerdict(samples, {
    warmUp: { afterMs: Math.max((minutes * 60_000) / 3, Math.min(300_000, minutes * 60_000)) },
    rssSwingMbByProcess: Object.fromEntries(names.map((n) => [n, apiRssSwingMb])),
    // The API's sockets follow the requests in flight (the traffic's and its AWS calls): seen
    // between 23 and 70 through a 30-minute run at 1/s with faults on, the lowest of each
    // 2-minute window 23–29 all along, and 23 once the traffic stopped.
    fdSwingByProcess: { api: 2 * trafficMaxInFlight },
  });
}

function resourceChecks(verdict: ResourceVerdict): Check[] {
  const checks: Check[] = [];
  for (const life of verdict.lives) {
    if (life.checks === undefined) continue;
    for (const c of life.checks) {
      checks.push({
        kind: 'resources',
        name: `${life.process} (pid ${life.pid}) ${c.resource === 'rss' ? 'RSS' : 'open descriptors'} within 10 % after warm-up${c.endAllowed === c.allowed ? '' : c.resource === 'rss' ? ' (at the end; a swing of the young generation allowed)' : ' (at the end; a swing of the requests in flight allowed)'}`,
        holds: c.within,
        count: life.samplesAfterWarmUp,
        detail: `baseline ${round(c.baseline)} ${c.unit}, max ${round(c.max)} (${c.growthPercent >= 0 ? '+' : ''}${round(c.growthPercent)} %), end ${round(c.end)}, allowed ${round(c.allowed)}${c.endAllowed === c.allowed ? '' : ` (end ${round(c.endAllowed)})`}`,
      });
    }
  }
  checks.push({
    kind: 'resources',
    name: 'process lives judged',
    holds: verdict.judged > 0,
    count: verdict.judged + verdict.notJudged,
    detail: `${verdict.judged} judged; not judged, too short after warm-up: ${
      verdict.lives
        .filter((l) => l.checks === undefined)
        .map((l) => `${l.process} (pid ${l.pid}, ${l.samplesAfterWarmUp} samples)`)
        .join(', ') || 'none'
    }`,
  });
  return checks;
}

function anomalyCheck(name: string, anomalies: readonly string[], count: number): Check {
  return {
    kind: 'run',
    name,
    holds: anomalies.length === 0,
    count,
    detail:
      anomalies.length === 0
        ? ''
        : `${anomalies.slice(0, 5).join('; ')}${anomalies.length > 5 ? `; and ${anomalies.length - 5} more` : ''}`,
  };
}

/** Every fault the run injected, by kind: the proxies' counts, the process faults, bad servers. */
function faultCounts(bed: SoakBed, chaos: ChaosRecord): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [label, proxy] of [
    ['AWS', bed.aws],
    ['SSM', bed.ssmProxy],
  ] as const) {
    for (const [kind, n] of proxy.faultTotals) counts[`${label} ${kind}`] = n;
  }
  counts['worker SIGKILL'] = chaos.kills;
  counts['worker SIGTERM'] = chaos.terms;
  counts['worker SIGTERM while starting'] = chaos.stoppedWhileStarting;
  counts['stand-in API restart'] = chaos.standInRestarts;
  for (const s of bed.servers) {
    if (s.behaviour === 'fail' || s.behaviour === 'hang' || s.behaviour === 'unreachable') {
      counts[`server ${s.behaviour}`] = (counts[`server ${s.behaviour}`] ?? 0) + 1;
    }
  }
  return counts;
}

async function main(): Promise<number> {
  let options: SoakOptions;
  try {
    options = parseSoakOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const started = Date.now();
  const out = resolve(
    options.out ??
      join(repoRoot, '.state', 'soak', new Date(started).toISOString().replace(/[:.]/g, '-')),
  );
  const logDir = join(out, 'logs');
  mkdirSync(logDir, { recursive: true });
  const soakLog = createWriteStream(join(out, 'soak.log'));
  const log = (line: string) => {
    const stamped = `${new Date().toISOString()} ${line}`;
    soakLog.write(`${stamped}\n`);
    process.stderr.write(`soak: ${line}\n`);
  };
  const standInLog = createWriteStream(join(logDir, 'run-command-stand-in.log'));
  log(
    `${options.minutes} min, ${options.rate} operations/s, ${options.workers} workers, seed ${options.seed}, output ${out}`,
  );
  const random = seededRandom(options.seed);

  const app = join(out, 'app');
  await buildService(join(app, 'dist'));
  const bed = await startSoakBed({
    stateDir: join(out, 'bed'),
    faults: options.faults,
    random,
    log: (line) => standInLog.write(`${new Date().toISOString()} ${line}\n`),
  });
  const apiPort = await freeLoopbackPort();
  const processes = new ServiceProcesses({
    app,
    logDir,
    apiPort,
    env: { ...bed.serviceEnv, LOG_LEVEL: options.logLevel },
  });
  // Interrupted (Ctrl-C, SIGTERM from CI or local/test.sh): the service's processes and the bed
  // go with it, killed at once, rather than being left polling an emulator that is gone.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the service's processes and the bed`);
      processes.killAll();
      bed
        .stop()
        .catch(() => undefined)
        .finally(() => process.exit(code));
    });
  }
  let exitCode = 1;
  const harvest = newSecretHarvest();
  const invariantBed = {
    clients: bed.clients,
    provisioned: bed.provisioned,
    standInStateDir: bed.standInStateDir,
  };
  const sampler = new ResourceSampler({ intervalMs: resourceIntervalMs });
  try {
    await processes.startApi();
    for (let i = 1; i <= options.workers; i++) processes.startWorker(i, i === 1);
    const watchAll = () => {
      for (const p of processes.all)
        if (p.running && p.child.pid) sampler.watch(p.name, p.child.pid);
    };
    watchAll();
    sampler.start();
    processes.onStart = watchAll;
    const traffic = new Traffic(bed, random, apiPort, options.duplicates, () =>
      collectSecrets(invariantBed, harvest),
    );
    const chaos = new Chaos(bed, processes, random, options.faults, log);
    chaos.start(options.minutes * 60_000);
    // The passphrases as they are made, for the no-secret-in-logs check: a secret scheduled for
    // deletion (stop-managing) refuses reads afterwards.
    const harvesting = setInterval(() => {
      collectSecrets(invariantBed, harvest).catch((error: unknown) =>
        log(`collecting secrets: ${(error as Error).message}`),
      );
    }, 15_000);
    log('traffic and faults on');
    const trafficStart = Date.now();
    try {
      await traffic.run(options.rate, trafficStart + options.minutes * 60_000);
    } finally {
      clearInterval(harvesting);
    }
    log('traffic done; faults off; draining');
    await chaos.stop();
    faultsOff(bed);
    const drained = await drain(bed, options.drainMinutes * 60_000, log);
    log(
      drained.settled
        ? `settled in ${Math.round(drained.ms / 1000)} s`
        : `not settled after ${Math.round(drained.ms / 1000)} s: ${drained.last.messages} messages, ${drained.last.unfinishedJobs} jobs`,
    );
    sampler.stop();
    await processes.stopAll();
    standInLog.end();
    log('checking');
    const invariants = await checkInvariants(invariantBed, {
      accepted: traffic.record.accepted,
      logFiles: [...processes.logFiles, join(logDir, 'run-command-stand-in.log')],
      secrets: harvest,
      exportCalls: bed.aws.counts.get('CertificateManager.ExportCertificate') ?? 0,
    });
    const verdict = soakResourceVerdict(sampler.samples, options.minutes);
    writeFileSync(
      join(out, 'resources.jsonl'),
      sampler.samples.map((sample) => `${JSON.stringify(sample)}\n`).join(''),
    );
    const checks: Check[] = [
      ...invariants.map((line) => ({ kind: 'invariant' as const, ...line })),
      ...resourceChecks(verdict),
      {
        kind: 'run',
        name: 'settled: queue empty and every job terminal after the traffic',
        holds: drained.settled,
        count: 1,
        detail: drained.settled
          ? `${Math.round(drained.ms / 1000)} s`
          : `${drained.last.messages} messages, ${drained.last.unfinishedJobs} jobs left after ${Math.round(drained.ms / 1000)} s`,
      },
      anomalyCheck('no process exited by itself', processes.crashes, processes.all.length),
      anomalyCheck(
        'every answer one the service should give',
        traffic.record.anomalies,
        [...traffic.record.answers.values()].reduce((a, n) => a + n, 0),
      ),
      anomalyCheck(
        'every fault delivered and every stopped worker exited 0',
        chaos.record.anomalies,
        chaos.record.kills + chaos.record.terms + chaos.record.standInRestarts,
      ),
    ];
    const summary: SoakSummary = {
      seed: options.seed,
      minutes: options.minutes,
      rate: options.rate,
      workers: options.workers,
      settled: drained.settled,
      drainedSeconds: Math.round(drained.ms / 1000),
      totalSeconds: Math.round((Date.now() - started) / 1000),
      traffic: Object.fromEntries(traffic.record.sent),
      duplicated: Object.fromEntries(traffic.record.duplicated),
      answers: Object.fromEntries(traffic.record.answers),
      faults: faultCounts(bed, chaos.record),
      jobs: await jobStatuses(bed),
      checks,
    };
    const text = formatSummary(summary);
    writeFileSync(
      join(out, 'summary.json'),
      `${JSON.stringify({ ...summary, resources: verdict }, null, 2)}\n`,
    );
    writeFileSync(join(out, 'summary.txt'), text);
    process.stdout.write(text);
    exitCode = passed(summary) ? 0 : 1;
  } finally {
    sampler.stop();
    await processes.stopAll().catch(() => undefined);
    await bed.stop().catch(() => undefined);
    standInLog.end();
    soakLog.end();
    await sleep(10);
  }
  return exitCode;
}

process.exitCode = await main();
