/**
 * `npm run cost`: the fixed monthly cost of each deployment profile (infra/lib/profiles.ts), in
 * us-east-1 and eu-west-1, computed from the template each profile synthesizes (offline) with
 * the dated prices of infra/lib/cost/prices.ts. `npm run cost -- --details` lists the items;
 * `npm run cost -- --template infra/cdk.out/AcmCertExport.template.json --region eu-west-1`
 * prices a template you synthesized yourself. Exits 1 when the low-cost profile costs more than
 * its target.
 */
import { readFileSync } from 'node:fs';
import {
  type CfnTemplate,
  type CostReport,
  fixedMonthlyCost,
  keyHorizonYears,
  notCounted,
} from '../lib/cost/fixed-cost.ts';
import { hoursPerMonth, prices } from '../lib/cost/prices.ts';
import { synthesizeProfile } from '../lib/cost/synthesize-profile.ts';
import { lowCostProfile, lowCostTargetUsd, profiles } from '../lib/profiles.ts';

type Region = keyof typeof prices;
const regions = Object.keys(prices) as Region[];

const usd = (n: number) => `$${n.toFixed(2)}`;

function printDetails(name: string, report: CostReport): void {
  console.log(`\n${name} in ${report.region}: ${usd(report.totalUsd)} a month`);
  for (const item of report.items) {
    console.log(
      `  ${usd(item.monthlyUsd).padStart(9)}  ${item.what} (${item.quantity.toLocaleString('en-US')} × ${item.unit})`,
    );
  }
  for (const rate of report.perUse) {
    console.log(`  per use: $${rate.usd.toFixed(4)} ${rate.unit}: ${rate.what}`);
  }
}

function printFooter(): void {
  const checked = [
    ...new Set(
      regions.flatMap((r) =>
        Object.values(prices[r])
          .filter((v) => typeof v === 'object')
          .map((v) => (v as { checked: string }).checked),
      ),
    ),
  ];
  console.log(
    `\nPrices: infra/lib/cost/prices.ts (on-demand list prices, checked ${checked.join(', ')}; ${hoursPerMonth} hours a month; KMS keys at their highest monthly charge within ${keyHorizonYears} years).`,
  );
  console.log('Not included:');
  for (const line of notCounted) console.log(`  - ${line}`);
}

function main(argv: string[]): number {
  const templateAt = argv.indexOf('--template');
  if (templateAt >= 0) {
    const path = argv[templateAt + 1];
    const region = argv[argv.indexOf('--region') + 1] as Region | undefined;
    if (
      path === undefined ||
      argv.indexOf('--region') < 0 ||
      region === undefined ||
      !(region in prices)
    ) {
      console.error(`usage: npm run cost -- --template <file> --region <${regions.join('|')}>`);
      return 2;
    }
    const template = JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
    printDetails(path, fixedMonthlyCost(template, prices[region]));
    printFooter();
    return 0;
  }
  const details = argv.includes('--details');
  const reports = profiles.map((profile) => ({
    profile,
    byRegion: regions.map((region) =>
      fixedMonthlyCost(synthesizeProfile(profile, region), prices[region]),
    ),
  }));
  console.log('Fixed monthly cost by profile (USD, before any use)\n');
  console.log(
    `  ${'profile'.padEnd(14)}${regions.map((r) => r.padStart(12)).join('')}  keys (-c …)`,
  );
  for (const { profile, byRegion } of reports) {
    const keys =
      Object.entries(profile.context)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '(defaults)';
    console.log(
      `  ${profile.name.padEnd(14)}${byRegion.map((r) => usd(r.totalUsd).padStart(12)).join('')}  ${keys}`,
    );
  }
  for (const { profile, byRegion } of reports) {
    if (details || profile === lowCostProfile) {
      for (const report of byRegion) printDetails(profile.name, report);
    }
  }
  printFooter();
  const lowCost = reports.find((r) => r.profile === lowCostProfile);
  const over = (lowCost?.byRegion ?? []).filter((r) => r.totalUsd > lowCostTargetUsd);
  if (over.length > 0) {
    console.error(
      `\nThe low-cost profile costs more than ${usd(lowCostTargetUsd)} a month in ${over.map((r) => r.region).join(', ')}.`,
    );
    return 1;
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
