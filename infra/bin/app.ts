/**
 * The CDK app: `npx cdk synth` (infra/cdk.json) or `node infra/bin/app.ts` (no CLI; writes
 * infra/cdk.out). Node 24 runs this TypeScript directly: no build step.
 */
import { App } from 'aws-cdk-lib';
import { buildStack, defaultRepoRoot } from '../lib/app.ts';
import { SettingsError } from '../lib/settings.ts';

const app = new App(
  process.env.CDK_OUTDIR === undefined
    ? { outdir: new URL('../cdk.out', import.meta.url).pathname }
    : {},
);
try {
  buildStack(app, {
    repoRoot: defaultRepoRoot,
    ...(process.env.CDK_DEFAULT_ACCOUNT ? { defaultAccount: process.env.CDK_DEFAULT_ACCOUNT } : {}),
    ...(process.env.CDK_DEFAULT_REGION || process.env.AWS_REGION
      ? { defaultRegion: process.env.CDK_DEFAULT_REGION || process.env.AWS_REGION }
      : {}),
  });
} catch (error) {
  if (error instanceof SettingsError) {
    console.error(`acm-cert-export: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
app.synth();
