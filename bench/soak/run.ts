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
import { Chaos } from './chaos.ts';
import { drain } from './drain.ts';
import { parseSoakOptions, type SoakOptions } from './options.ts';
import { seededRandom } from './random.ts';
import { ServiceProcesses } from './service-processes.ts';
import { startSoakBed } from './soak-bed.ts';
import { Traffic } from './traffic.ts';

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
  let exitCode = 1;
  try {
    await processes.startApi();
    for (let i = 1; i <= options.workers; i++) processes.startWorker(i, i === 1);
    const traffic = new Traffic(bed, random, apiPort, options.duplicates, async () => {});
    const chaos = new Chaos(bed, processes, random, options.faults, log);
    chaos.start();
    log('traffic and faults on');
    await traffic.run(options.rate, Date.now() + options.minutes * 60_000);
    log('traffic done; faults off; draining');
    await chaos.stop();
    const drained = await drain(bed, options.drainMinutes * 60_000, log);
    log(
      drained.settled
        ? `settled in ${Math.round(drained.ms / 1000)} s`
        : `not settled after ${Math.round(drained.ms / 1000)} s: ${drained.last.messages} messages, ${drained.last.unfinishedJobs} jobs`,
    );
    await processes.stopAll();
    const summary = {
      seed: options.seed,
      minutes: options.minutes,
      traffic: Object.fromEntries(traffic.record.sent),
      duplicated: Object.fromEntries(traffic.record.duplicated),
      answers: Object.fromEntries(traffic.record.answers),
      accepted: traffic.record.accepted.length,
      anomalies: [...traffic.record.anomalies, ...chaos.record.anomalies, ...processes.crashes],
      chaos: chaos.record,
      proxy: { throttled: Object.fromEntries(bed.aws.throttled) },
      drained,
    };
    writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    exitCode = drained.settled && summary.anomalies.length === 0 ? 0 : 1;
  } finally {
    await processes.stopAll().catch(() => undefined);
    await bed.stop().catch(() => undefined);
    standInLog.end();
    soakLog.end();
    await sleep(10);
  }
  return exitCode;
}

process.exitCode = await main();
