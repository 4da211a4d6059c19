/**
 * `npm run bench [-- --quick]`: measures on loopback (moto, the Run Command stand-in, the real
 * install script) and prints one JSON object per figure, each with its target and whether it is
 * met (figures.ts says the format; a new figure names its target in figures.ts `targets`).
 * `npm run bench -- --image` also builds the service image with podman and prints its size.
 * `npm run bench -- --real-account …` runs the throughput, requests and cost measurement
 * against a real account instead (real-account.ts). See docs/benchmarks.md.
 */

import { RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { measureApi } from './api-bench.ts';
import { addServers, startBenchSystem } from './bench-system.ts';
import { addTimedServers, measureLongCommands, measureSlowServers } from './command-bench.ts';
import { costFigures, runCost } from './deployment-cost.ts';
import { emit } from './figures.ts';
import { profileFixedCosts } from './fixed-costs.ts';
import { measureFleetDeployment, measureSweep } from './fleet-bench.ts';
import { measureProcess } from './process-bench.ts';
import { measureSharedQuota } from './quota-bench.ts';
import { RefusedError, runRealAccount } from './real-account.ts';
import { countsOf, createRequestCounter } from './request-counter.ts';
import {
  bedOf,
  measureOverhead,
  requestsFigure,
  runDeployments,
  startBenchWorker,
  throughputFigure,
} from './worker-bench.ts';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const plan = quick
  ? {
      latencySamples: 8,
      deployments: 40,
      apiSeconds: 3,
      apiConcurrency: 8,
      fleet: 200,
      longCommands: [30],
      longJobs: 3,
    }
  : {
      latencySamples: 30,
      deployments: 200,
      apiSeconds: 10,
      apiConcurrency: 16,
      fleet: 2000,
      longCommands: [30, 120],
      longJobs: 5,
    };

if (argv.includes('--real-account')) {
  try {
    await runRealAccount(argv, process.env, { deployments: plan.deployments });
  } catch (error) {
    if (!(error instanceof RefusedError)) throw error;
    console.error(error.message);
    process.exitCode = 2;
  }
} else {
  await onTheBed();
}

/** The proxies' counts minus the middleware's, by operation: empty when they agree. */
function disagreement(proxied: Record<string, number>, counted: Record<string, number>) {
  const out: Record<string, number> = {};
  for (const op of new Set([...Object.keys(proxied), ...Object.keys(counted)])) {
    const d = (proxied[op] ?? 0) - (counted[op] ?? 0);
    if (d !== 0) out[op] = d;
  }
  return out;
}

async function onTheBed() {
  const system = await startBenchSystem(
    { 'bench-latency': 2, 'bench-throughput': 1 },
    { 'bench-throughput': 'instant' },
  );
  try {
    // --- the production bundle: start to /readyz, idle memory (first: the bed is quiet, the
    // queue empty); with --image, the image's size ---
    console.error(
      `process: the bundle started ${quick ? 3 : 5} times to /readyz, then 10 s idle${argv.includes('--image') ? '; the image built' : ''}…`,
    );
    emit(
      ...(await measureProcess(system, {
        starts: quick ? 3 : 5,
        idleSeconds: 10,
        rssSamples: 5,
        image: argv.includes('--image'),
      })),
    );

    // --- one export quota shared by four worker processes (before the in-process worker and
    // the fleet's instances: only the four consume, and moto is not yet slowed by the fleet) ---
    const quotaDeployments = quick ? 100 : 200;
    console.error(
      `shared quota: ${quick ? '' : 'one worker process alone, then '}4 worker processes, ${quotaDeployments} deployments each time, one 5/s limit…`,
    );
    emit(
      ...(await measureSharedQuota(system, {
        tasks: 4,
        deployments: quotaDeployments,
        control: !quick,
      })),
    );

    const counter = createRequestCounter();
    const worker = startBenchWorker(system.serviceEnv, counter);
    console.error(`worker: ${worker.concurrency} consumers, the stack's environment`);
    try {
      // --- orchestration overhead: one job at a time, 2 servers running the real script ---
      console.error(`overhead: ${plan.latencySamples} jobs one at a time…`);
      const overhead = await measureOverhead(system, plan.latencySamples, 'bench-latency');
      emit(overhead);

      // --- first deployments of new mappings, then the same mappings again ---
      const bed = bedOf(system);
      const target = { key: 'env', value: 'bench-throughput' };
      const certNames = Array.from(
        { length: plan.deployments },
        (_, i) => `bench-map-${String(i).padStart(4, '0')}`,
      );
      const counted = async (jobPrefix: string) => {
        system.aws.reset();
        system.ssmProxy.reset();
        const run = await runDeployments(bed, counter, { certNames, target, jobPrefix });
        const proxied = countsOf(new Map([...system.aws.counts, ...system.ssmProxy.counts]));
        return { run, proxyDisagrees: disagreement(proxied, run.requests) };
      };
      console.error(
        `first deployments: ${plan.deployments} new mappings at once, ExportCertificate held to 5/s…`,
      );
      const first = await counted('bench-first');
      emit(
        throughputFigure(first.run, 5),
        requestsFigure('requests_first_deployment', first.run, {
          counted_by: 'SDK middleware',
          proxy_minus_middleware: first.proxyDisagrees,
        }),
      );
      console.error(`repeat deployments: the same ${plan.deployments} mappings again…`);
      const repeat = await counted('bench-repeat');
      emit(
        requestsFigure('requests_repeat_deployment', repeat.run, {
          counted_by: 'SDK middleware',
          proxy_minus_middleware: repeat.proxyDisagrees,
        }),
      );

      // --- servers that take time: no consumer held while their commands run ---
      await addTimedServers(system, 'bench-slow', 1, 3000);
      console.error(
        `slow servers: ${plan.deployments} deployments to a server taking 3 s, ${worker.concurrency} consumers…`,
      );
      emit(
        await measureSlowServers(system, counter, {
          deployments: plan.deployments,
          consumers: worker.concurrency,
          target: 'bench-slow',
        }),
      );
      for (const runSeconds of plan.longCommands) {
        await addTimedServers(system, `bench-long-${runSeconds}`, 1, runSeconds * 1000);
        console.error(
          `long commands: ${plan.longJobs} jobs at once, servers taking ${runSeconds} s…`,
        );
        emit(
          await measureLongCommands(system, counter, {
            jobs: plan.longJobs,
            runSeconds,
            target: `bench-long-${runSeconds}`,
          }),
        );
      }
      if (!plan.longCommands.includes(120)) {
        const skipped = {
          figure: 'long_command_overhead_ms_120s',
          value: null,
          target_max: 2000,
          not_measured: 'only in the full run (npm run bench): it takes over two minutes',
        };
        emit(skipped);
      }

      // --- cost per deployment, fixed cost of each profile, break-even ---
      console.error('cost: item sizes, indexes, the profiles’ fixed costs (npm run cost)…');
      const figures = costFigures({
        first: await runCost(system.clients.dynamodbRaw, first.run),
        repeat: await runCost(system.clients.dynamodbRaw, repeat.run),
        commandSeconds: overhead.command_seconds_p50,
        deploymentsPerSecond: first.run.deployments / first.run.seconds,
        profiles: profileFixedCosts('us-east-1'),
      });
      emit(figures.costFigure, figures.breakEven);

      // --- a fleet, and the reconciliation sweep ---
      console.error(`fleet: starting ${plan.fleet} servers, then one deployment to them all…`);
      // Their EC2 'running' events would each queue an install on one server once the fleet's
      // mapping exists (the instance rule): this figure is the one deployment, so they go nowhere.
      await system.clients.eventbridge.send(
        new RemoveTargetsCommand({
          Rule: system.provisioned.names.instanceRuleName,
          Ids: ['job-queue'],
        }),
      );
      await addServers(system.clients.ec2, 'bench-fleet', plan.fleet, 'instant');
      emit(await measureFleetDeployment(system, 'bench-fleet', plan.fleet));
      console.error('sweep: one mapping of 2 servers, then the fleet’s, all converged…');
      emit(await measureSweep(system, { target: 'bench-latency', certName: 'bench-lat-0000' }, 2));
      emit(await measureSweep(system, { target: 'bench-fleet', certName: 'fleet' }, plan.fleet));
    } finally {
      await worker.stop();
    }

    // --- the API ---
    console.error(`API: ${plan.apiSeconds} s per route, ${plan.apiConcurrency} clients…`);
    emit(...(await measureApi(system, plan.apiSeconds, plan.apiConcurrency)));
  } finally {
    await system.stop();
  }
}
