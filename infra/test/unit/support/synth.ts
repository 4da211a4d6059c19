import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { AcmCertExportStack } from '../../../lib/acm-cert-export-stack.ts';
import { buildStack, defaultRepoRoot } from '../../../lib/app.ts';

export const testAccount = '123456789012';
export const testRegion = 'us-east-1';
export const albCertificateArn = `arn:aws:acm:${testRegion}:${testAccount}:certificate/11111111-2222-3333-4444-555555555555`;
export const principals = [
  {
    principal: `arn:aws:iam::${testAccount}:role/deployer`,
    actions: ['read', 'deploy'],
    targets: ['env=dev'],
  },
];

/** The context of infra/cdk.json, so the tests synthesize with the same feature flags. */
const cdkJsonContext = (
  JSON.parse(readFileSync(join(defaultRepoRoot, 'infra', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/** Context every test starts from: fixed env, an image URI (no Docker), the listener certificate. */
export const baseContext: Record<string, unknown> = {
  account: testAccount,
  region: testRegion,
  albCertificateArn,
  imageUri: 'public.ecr.aws/example/acm-cert-export:test',
  // Named zones keep synth offline (without them the stack asks for the account's zone lookup).
  availabilityZones: `${testRegion}a,${testRegion}b`,
  principals: JSON.stringify(principals),
  // Skip Lambda bundling (it copies the production node_modules): the asset keeps a fake hash.
  'aws:cdk:bundling-stacks': [],
};

export interface Synthesized {
  readonly app: App;
  readonly stack: AcmCertExportStack;
  readonly template: Template;
}

const built = new Map<string, Synthesized>();

/**
 * Builds the stack as infra/bin/app.ts does, with the given context on top of baseContext.
 * Memoized per context within a test file: templates are read, never changed, by the tests.
 */
export function synth(context: Record<string, unknown> = {}): Synthesized {
  const key = JSON.stringify(context);
  const cached = built.get(key);
  if (cached !== undefined) return cached;
  const app = new App({ context: { ...cdkJsonContext, ...baseContext, ...context } });
  const stack = buildStack(app, { repoRoot: defaultRepoRoot });
  const result = { app, stack, template: Template.fromStack(stack) };
  built.set(key, result);
  return result;
}
