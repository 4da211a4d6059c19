/**
 * `npm run bench [-- --quick]`: measures on loopback (moto, the Run Command stand-in, the real
 * install script) and prints one JSON object per figure on its last lines. See
 * docs/benchmarks.md for what each figure means and the latest results.
 */

import { RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { measureApi } from './api-bench.ts';
import { addServers, startBenchSystem } from './bench-system.ts';
import { costPer1000, originalCostPer1000 } from './cost-model.ts';
import { measureFleetDeployment, measureSweep } from './fleet-bench.ts';
import { round } from './stats.ts';
import { measureOverhead, measureThroughput, startBenchWorker } from './worker-bench.ts';

const quick = process.argv.includes('--quick');
const plan = quick
  ? { latencySamples: 8, deployments: 40, apiSeconds: 3, apiConcurrency: 8, fleet: 200 }
  : { latencySamples: 30, deployments: 200, apiSeconds: 10, apiConcurrency: 16, fleet: 2000 };

const system = await startBenchSystem(
  { 'bench-latency': 2, 'bench-throughput': 1 },
  { 'bench-throughput': 'instant' },
);
/** Prints each figure as soon as it is measured: a later failure keeps the earlier ones. */
const emit = (...figures: unknown[]) => {
  for (const f of figures) console.log(JSON.stringify(f));
};
try {
  const worker = startBenchWorker(system, 20);
  try {
    console.error(`overhead: ${plan.latencySamples} jobs one at a time…`);
    const overhead = await measureOverhead(system, plan.latencySamples, 'bench-latency');
    emit(overhead);
    console.error(
      `throughput: ${plan.deployments} deployments at once, ExportCertificate held to 5/s…`,
    );
    const t = await measureThroughput(system, plan.deployments, 'bench-throughput');
    emit(t.throughput, t.requests);
    const ours = costPer1000({
      perDeployment: t.requests.by_kind,
      recordWriteKb: t.recordKb,
      itemReadKb: t.recordKb,
    });
    const original = originalCostPer1000({
      commandSeconds: overhead.command_seconds_p50,
      lambdaMemoryGb: 0.128,
      lambdaSeconds: 0.5,
    });
    const rounded = (o: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, 5) : v]),
      );
    emit({
      figure: 'cost_per_1000_deployments_usd',
      this_design: rounded(ours),
      original_design: rounded(original),
      not_compared:
        'ACM export fee of public certificates (same in both), Secrets Manager $0.40 per secret-month (one per mapping; the original kept none), Fargate task (fixed, not per deployment)',
    });
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
  console.error(`API: ${plan.apiSeconds} s per route, ${plan.apiConcurrency} clients…`);
  emit(...(await measureApi(system, plan.apiSeconds, plan.apiConcurrency)));
} finally {
  await system.stop();
}
