/**
 * Least privilege, checked from the other side: every action a role grants must be used by some
 * request of the app ids that role serves, in each API mode. What is granted but never requested
 * fails the run, unless it is listed below with the reason it stays. Meaningful only for a
 * complete run of the integration project (a few files request less).
 */
import { type ApiMode, apiModes, roleLabels, type ServiceRole } from './app-ids.ts';
import type { Verdict } from './evaluation.ts';
import { grantsOf } from './role-policies.ts';
import type { StackPolicies } from './stack-policies.ts';

export interface ReviewedGrant {
  readonly role: ServiceRole;
  readonly action: string;
  /** Only in this mode (both when absent). */
  readonly mode?: ApiMode;
  readonly reason: string;
}

/** The one reviewed list of grants that no request of the test bed uses, each with its reason. */
export const reviewedUnusedGrants: readonly ReviewedGrant[] = [
  {
    role: 'taskRole',
    action: 'ecs:UpdateTaskProtection',
    reason:
      'The ECS agent calls it with the task role when the worker asks the agent endpoint ($ECS_AGENT_URI) for scale-in protection; the app’s SDK clients never do, and the bed runs no ECS agent (local/ecs-agent/ stands in for its endpoint only).',
  },
  {
    role: 'taskRole',
    action: 'kms:GenerateDataKey',
    reason:
      'SNS calls KMS with the publisher’s permissions (kms:ViaService sns) to encrypt a notification for the encrypted alarm topic; the app’s SDK clients never call KMS, and the bed’s topic (moto) is not encrypted. The publish itself (sns:Publish) is evaluated.',
  },
  {
    role: 'taskRole',
    action: 'kms:Decrypt',
    reason:
      'SNS calls KMS with the publisher’s permissions (kms:ViaService sns) to encrypt a notification for the encrypted alarm topic; the app’s SDK clients never call KMS, and the bed’s topic (moto) is not encrypted. The publish itself (sns:Publish) is evaluated.',
  },
  {
    role: 'apiFunctionRole',
    action: 'logs:CreateLogStream',
    reason:
      'The Lambda runtime writes the function’s logs with its role; the app’s SDK clients never do, and the bed runs no Lambda runtime.',
  },
  {
    role: 'apiFunctionRole',
    action: 'logs:PutLogEvents',
    reason:
      'The Lambda runtime writes the function’s logs with its role; the app’s SDK clients never do, and the bed runs no Lambda runtime.',
  },
  {
    role: 'wakerFunctionRole',
    action: 'logs:CreateLogStream',
    reason:
      'The Lambda runtime writes the function’s logs with its role; the app’s SDK clients never do, and the bed runs no Lambda runtime.',
  },
  {
    role: 'wakerFunctionRole',
    action: 'logs:PutLogEvents',
    reason:
      'The Lambda runtime writes the function’s logs with its role; the app’s SDK clients never do, and the bed runs no Lambda runtime.',
  },
];

export interface Grant {
  readonly mode: ApiMode;
  readonly role: ServiceRole;
  readonly sid: string;
  readonly action: string;
}

export interface CoverageFindings {
  /** Granted, never used by an allowed request, not reviewed. */
  readonly unused: readonly Grant[];
  /** Reviewed as unused, but used (or no longer granted): the entry is stale. */
  readonly staleReviews: readonly ReviewedGrant[];
}

function reviewFor(grant: Grant, reviewed: readonly ReviewedGrant[]): ReviewedGrant | undefined {
  return reviewed.find(
    (r) =>
      r.role === grant.role &&
      r.action === grant.action &&
      (r.mode === undefined || r.mode === grant.mode),
  );
}

/** Every grant of every role in every mode, with the number of requests it allowed. */
export function grantUsage(
  policies: StackPolicies,
  verdicts: readonly Verdict[],
): (Grant & { readonly allowed: number })[] {
  const counts = new Map<string, number>();
  for (const v of verdicts) {
    if (v.decision !== 'Allowed') continue;
    for (const sid of v.allowedBy) {
      const key = JSON.stringify([v.mode, v.role, sid, v.request.action]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const grants: (Grant & { allowed: number })[] = [];
  for (const mode of apiModes) {
    for (const [role, rolePolicies] of Object.entries(policies[mode].roles) as [
      ServiceRole,
      NonNullable<StackPolicies[ApiMode]['roles'][ServiceRole]>,
    ][]) {
      for (const { sid, action } of grantsOf(rolePolicies)) {
        const allowed = counts.get(JSON.stringify([mode, role, sid, action])) ?? 0;
        grants.push({ mode, role, sid, action, allowed });
      }
    }
  }
  return grants;
}

export function coverage(
  policies: StackPolicies,
  verdicts: readonly Verdict[],
  reviewed: readonly ReviewedGrant[] = reviewedUnusedGrants,
): CoverageFindings {
  const unused: Grant[] = [];
  const reviewsApplied = new Set<ReviewedGrant>();
  for (const { allowed, ...grant } of grantUsage(policies, verdicts)) {
    if (allowed > 0) continue;
    const review = reviewFor(grant, reviewed);
    if (review === undefined) unused.push(grant);
    else reviewsApplied.add(review);
  }
  return { unused, staleReviews: reviewed.filter((r) => !reviewsApplied.has(r)) };
}

export function formatCoverage(findings: CoverageFindings): string | undefined {
  const lines: string[] = [];
  for (const g of findings.unused) {
    lines.push(
      `  - ${g.mode}: the ${roleLabels[g.role]} grants ${g.action} (statement ${g.sid}) and no request of the run used it`,
    );
  }
  for (const r of findings.staleReviews) {
    lines.push(
      `  - reviewed as unused but now used or no longer granted: ${r.role} ${r.action}${r.mode === undefined ? '' : ` (${r.mode})`}: remove it from reviewedUnusedGrants`,
    );
  }
  if (lines.length === 0) return undefined;
  return [
    'IAM coverage: grants no request of the complete integration run used. Remove the grant, or list it with its reason in local/iam/coverage.ts (reviewedUnusedGrants):',
    ...lines,
  ].join('\n');
}
