import {
  canonicalFormats,
  type InstallOptions,
  isAllowedReloadCommand,
  pkcs12Formats,
} from './install-options.ts';
import { certificateRegion, isReservedTagKey } from './names.ts';
import type { TargetTag } from './target.ts';

/** What the operator allows every deployment, whoever asks (API, queue, events). */
export interface DeploymentPolicy {
  /**
   * The stack's target tag keys: its policies let the service run commands only on servers
   * carrying one of them, create secrets only tagged with one of them, and let servers read a
   * secret only by one of them (ABAC). A deployment to any other key could never work.
   */
  readonly targetTagKeys: readonly string[];
  /** Reload commands a deployment may ask for; every server has its own allow-list too. */
  readonly allowedReloadCommands: readonly string[];
  /**
   * Regions whose certificates the service exports (each in its own region); its IAM policy
   * grants ACM in these only. By default the service's own region.
   */
  readonly certificateRegions: readonly string[];
}

/** One refused field, named as in the v1 request body. */
export interface PolicyProblem {
  readonly field: '/certificateArn' | '/target/key' | '/install/reloadCommand' | '/install/formats';
  readonly problem: string;
}

/** Every reason the policy refuses this deployment; empty when it may go ahead. */
export function policyProblems(
  request: {
    readonly certificateArn: string;
    readonly target: TargetTag;
    readonly install?: InstallOptions;
  },
  policy: DeploymentPolicy,
): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const region = certificateRegion(request.certificateArn);
  if (region !== undefined && !policy.certificateRegions.includes(region)) {
    problems.push({
      field: '/certificateArn',
      problem: `is a certificate of ${region}, not a region this service exports from (CERTIFICATE_REGIONS: ${policy.certificateRegions.join(', ')}); its IAM policy grants ACM in those regions only`,
    });
  }
  const key = request.target.key;
  if (isReservedTagKey(key)) {
    problems.push({
      field: '/target/key',
      problem: `"${key}" is reserved by AWS (aws:): no server can carry it as a tag of its own`,
    });
  } else if (!policy.targetTagKeys.includes(key)) {
    problems.push({
      field: '/target/key',
      problem: `"${key}" is not a target tag key of this service (TARGET_TAG_KEYS: ${policy.targetTagKeys.join(', ')}); its IAM policies let it deploy only to servers tagged with those keys`,
    });
  }
  const reload = request.install?.reloadCommand;
  if (
    reload !== undefined &&
    reload !== '' &&
    !isAllowedReloadCommand(reload, policy.allowedReloadCommands)
  ) {
    problems.push({
      field: '/install/reloadCommand',
      problem:
        policy.allowedReloadCommands.length === 0
          ? `"${reload}" is refused: this service allows no reload command (ALLOWED_RELOAD_COMMANDS is empty)`
          : `"${reload}" is not one of this service's reload commands (ALLOWED_RELOAD_COMMANDS: ${policy.allowedReloadCommands.join('; ')})`,
    });
  }
  const p12 = canonicalFormats(request.install?.formats ?? []).filter((f) =>
    pkcs12Formats.includes(f),
  );
  if (p12.length > 1) {
    problems.push({
      field: '/install/formats',
      problem: `names both ${p12.join(' and ')}: both write <certName>.p12, choose one (pkcs12: AES-256, for current Java and Windows; pkcs12-legacy: 3DES, for older ones)`,
    });
  }
  return problems;
}
