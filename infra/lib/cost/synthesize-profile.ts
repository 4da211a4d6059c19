/**
 * A deployment profile's template, synthesized offline for pricing: `npm run cost`
 * (infra/bin/cost.ts) prices each profile with it, and the benchmark (bench/fixed-costs.ts) puts
 * the same fixed costs beside the per-deployment cost.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { buildStack, defaultRepoRoot } from '../app.ts';
import type { Profile } from '../profiles.ts';
import type { CfnTemplate } from './fixed-cost.ts';
import type { prices } from './prices.ts';

export type PricedRegion = keyof typeof prices;

const account = '123456789012';

/**
 * Only their number matters to the cost (every profile spans two zones); these names exist in
 * the two regions.
 */
const twoZones: Record<PricedRegion, string> = {
  'us-east-1': 'us-east-1a,us-east-1b',
  'eu-west-1': 'eu-west-1a,eu-west-1b',
};

export function synthesizeProfile(profile: Profile, region: PricedRegion): CfnTemplate {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({
    outdir: new URL('../../cdk.out/cost', import.meta.url).pathname,
    context: {
      ...cdkJson.context,
      account,
      region,
      availabilityZones: twoZones[region],
      albCertificateArn: `arn:aws:acm:${region}:${account}:certificate/00000000-0000-0000-0000-000000000000`,
      // An image in ECR (the endpoints profile needs one; the built image is one too).
      imageUri: `${account}.dkr.ecr.${region}.amazonaws.com/acm-cert-export:cost`,
      // The Lambda package does not change the cost: skip bundling it.
      'aws:cdk:bundling-stacks': [],
      ...profile.context,
    },
  });
  const stack = buildStack(app, { repoRoot: defaultRepoRoot });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}
