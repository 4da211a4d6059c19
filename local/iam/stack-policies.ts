/**
 * Synthesizes the CDK stack in both API modes as infra/bin/app.ts does — account 123456789012 and
 * region us-east-1 (moto's), the default resource names (the ones the bed provisions) — and
 * extracts the policies the evaluation needs. Synthesizing takes seconds, so the result is cached
 * under .state/iam/ by a hash of what it depends on (infra/, ssm/, the lock file).
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot, stateDir } from '../paths.ts';
import { type ApiMode, apiModes } from './app-ids.ts';
import type { Environment, Template } from './intrinsics.ts';
import { type ModePolicies, modePolicies } from './role-policies.ts';

export const bedEnvironment = {
  account: '123456789012',
  region: 'us-east-1',
} as const;

export type StackPolicies = Readonly<Record<ApiMode, ModePolicies>>;

/** The context infra/test/unit/support/synth.ts uses, in each mode (no Docker, no bundling). */
function contextFor(mode: ApiMode): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(repoRoot, 'infra', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return {
    ...cdkJson.context,
    account: bedEnvironment.account,
    region: bedEnvironment.region,
    apiMode: mode,
    // apigateway: the scale-to-zero shape (the low-cost profile's), so the waker's role is
    // evaluated too; the task and API roles are the same at any minTasks.
    ...(mode === 'apigateway' ? { minTasks: '0' } : {}),
    // A second region of certificates (service/test/integration/worker/other-region.test.ts).
    certificateRegions: `${bedEnvironment.region},eu-west-1`,
    albCertificateArn: `arn:aws:acm:${bedEnvironment.region}:${bedEnvironment.account}:certificate/00000000-0000-0000-0000-000000000000`,
    imageUri: 'public.ecr.aws/example/acm-cert-export:bed',
    // Named zones: the bed synthesizes offline, with no zone lookup.
    availabilityZones: `${bedEnvironment.region}a,${bedEnvironment.region}b`,
    principals: '[]',
    'aws:cdk:bundling-stacks': [],
  };
}

/** Synthesizes the stack in every mode (seconds); no cache. */
export async function synthesizeStackPolicies(): Promise<StackPolicies> {
  // Loaded here so that a cached run never pays for loading aws-cdk-lib.
  const { App } = await import('aws-cdk-lib');
  const { buildStack } = await import('../../infra/lib/app.ts');
  const out = {} as Record<ApiMode, ModePolicies>;
  for (const mode of apiModes) {
    const app = new App({ context: contextFor(mode) });
    const stack = buildStack(app, { repoRoot });
    const template = app.synth().getStackByName(stack.stackName).template as Template;
    const env: Environment = { ...bedEnvironment, stackName: stack.stackName };
    out[mode] = modePolicies(mode, template, env);
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test' ? [] : filesUnder(path);
    return [path];
  });
}

/** A hash of every input of the synthesis, and of this folder (the extraction). */
export function sourceHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...filesUnder(join(repoRoot, 'infra', 'lib')),
    ...filesUnder(join(repoRoot, 'infra', 'bin')),
    join(repoRoot, 'infra', 'cdk.json'),
    ...filesUnder(join(repoRoot, 'ssm')),
    ...filesUnder(join(repoRoot, 'local', 'iam')),
    join(repoRoot, 'package-lock.json'),
  ].sort();
  for (const file of files) {
    if (!statSync(file).isFile()) continue;
    hash.update(relative(repoRoot, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** The stack's policies, from the cache when infra/ and ssm/ have not changed. */
export async function stackPolicies(cacheDir = join(stateDir, 'iam')): Promise<StackPolicies> {
  const path = join(cacheDir, `stack-policies-${sourceHash()}.json`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StackPolicies;
  } catch {
    // not cached yet (or unreadable): synthesize
  }
  const policies = await synthesizeStackPolicies();
  mkdirSync(cacheDir, { recursive: true });
  // Older entries describe sources that changed since: only the newest is worth keeping.
  for (const old of readdirSync(cacheDir)) {
    if (old.startsWith('stack-policies-') && old.endsWith('.json')) {
      rmSync(join(cacheDir, old), { force: true });
    }
  }
  // Written whole, then renamed: a run starting meanwhile never reads half a file.
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(policies, null, 2)}\n`);
  renameSync(partial, path);
  return policies;
}
