/**
 * Builds the app: reads the context, picks the image and the Lambda code, creates the stack and
 * applies the cdk-nag AwsSolutions checks. Shared by infra/bin/app.ts and the tests, so the
 * tests check the very stack `cdk synth` produces.
 */
import { join } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { buildDocumentObject } from '../../ssm/build-document.ts';
import { AcmCertExportStack } from './acm-cert-export-stack.ts';
import type { ContextKey } from './context-keys.ts';
import { serviceLambdaCode } from './lambda-bundle.ts';
import { AwsSolutionsChecks } from './nag.ts';
import { checkAlbCertificateRegion, readSettings, SettingsError } from './settings.ts';

export interface BuildOptions {
  /** The repository root: Docker build context and Lambda package source. */
  readonly repoRoot: string;
  /** Fallbacks for the account and region context keys (CDK_DEFAULT_ACCOUNT/REGION). */
  readonly defaultAccount?: string;
  readonly defaultRegion?: string;
}

/** Creates the stack in `app` with the nag checks; returns it. */
export function buildStack(app: App, options: BuildOptions): AcmCertExportStack {
  const settings = readSettings((key: ContextKey) => app.node.tryGetContext(key));
  const account = settings.account ?? options.defaultAccount;
  const region = settings.region ?? options.defaultRegion;
  if (region === undefined) {
    throw new SettingsError(
      'the region is required (ALB access logs and ARNs depend on it): -c region=us-east-1 or AWS_REGION',
    );
  }
  checkAlbCertificateRegion(settings, region);
  const stack = new AcmCertExportStack(app, settings.stackName, {
    env: { region, ...(account === undefined ? {} : { account }) },
    description: 'acm-cert-export: export ACM certificates and install them on servers with SSM',
    settings,
    repoRoot: options.repoRoot,
    installDocument: buildDocumentObject(),
    ...(settings.apiMode === 'apigateway'
      ? { lambdaCode: serviceLambdaCode(options.repoRoot) }
      : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}

export const defaultRepoRoot = join(import.meta.dirname, '..', '..');
