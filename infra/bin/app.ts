/**
 * The CDK app: `npm run synth` (the CDK CLI, infra/cdk.json) or `node infra/bin/app.ts
 * [-c key=value ...]` without the CLI, which reads infra/cdk.json's context itself and writes
 * infra/cdk.out. Node 24 runs this TypeScript directly: no build step.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { buildStack, defaultRepoRoot } from '../lib/app.ts';
import { missingZoneLookup } from '../lib/availability-zones.ts';
import { SettingsError } from '../lib/settings.ts';

/** Context when run without the CLI: infra/cdk.json, then `-c key=value` arguments. */
function contextWithoutCli(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const context: Record<string, unknown> = { ...cdkJson.context };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '-c' && argv[i] !== '--context') continue;
    const [key, ...value] = (argv[++i] ?? '').split('=');
    if (key === undefined || key === '' || value.length === 0) {
      console.error(`acm-cert-export: expected -c key=value, got "${argv[i] ?? ''}"`);
      process.exit(2);
    }
    context[key] = value.join('=');
  }
  return context;
}

// The CLI passes context and output directory through CDK_CONTEXT_JSON and CDK_OUTDIR.
const underCli = process.env.CDK_CONTEXT_JSON !== undefined;
const app = new App(
  underCli
    ? {}
    : { outdir: new URL('../cdk.out', import.meta.url).pathname, context: contextWithoutCli() },
);
const region = process.env.CDK_DEFAULT_REGION || process.env.AWS_REGION || undefined;
try {
  buildStack(app, {
    repoRoot: defaultRepoRoot,
    ...(process.env.CDK_DEFAULT_ACCOUNT ? { defaultAccount: process.env.CDK_DEFAULT_ACCOUNT } : {}),
    ...(region === undefined ? {} : { defaultRegion: region }),
  });
} catch (error) {
  if (error instanceof SettingsError) {
    console.error(`acm-cert-export: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
const assembly = app.synth();
// The CLI performs a missing lookup and synthesizes again; without it, say what to give.
const missing = underCli ? undefined : missingZoneLookup(assembly.manifest.missing ?? []);
if (missing !== undefined) {
  console.error(`acm-cert-export: ${missing}`);
  process.exit(2);
}
console.error(`acm-cert-export: synthesized to ${app.outdir}`);
