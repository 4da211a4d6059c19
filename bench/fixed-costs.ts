/**
 * The fixed monthly cost of each deployment profile, as `npm run cost` computes it (the same
 * synthesis, template pricing and dated prices: infra/lib/cost/), for the benchmark to put
 * beside the per-deployment cost. A profile whose worker scales to zero also pays for a task
 * while it runs: its per-task-hour rate comes with it.
 */
import { fixedMonthlyCost } from '../infra/lib/cost/fixed-cost.ts';
import { prices } from '../infra/lib/cost/prices.ts';
import { type PricedRegion, synthesizeProfile } from '../infra/lib/cost/synthesize-profile.ts';
import { profiles } from '../infra/lib/profiles.ts';
import { idleMinutesBeforeScaleIn } from '../infra/lib/worker-scaling.ts';

export interface ProfileFixedCost {
  readonly profile: string;
  readonly fixedMonthlyUsd: number;
  /** Set for a worker that scales to zero: what a task costs per hour while it runs. */
  readonly taskHourUsd?: number;
}

export { idleMinutesBeforeScaleIn };

export function profileFixedCosts(region: PricedRegion = 'us-east-1'): ProfileFixedCost[] {
  return profiles.map((profile) => {
    const report = fixedMonthlyCost(synthesizeProfile(profile, region), prices[region]);
    const task = report.perUse.find((rate) => rate.unit.startsWith('per task-hour'));
    return {
      profile: profile.name,
      fixedMonthlyUsd: report.totalUsd,
      ...(task === undefined ? {} : { taskHourUsd: task.usd }),
    };
  });
}
