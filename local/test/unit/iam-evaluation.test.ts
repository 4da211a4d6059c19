import { beforeAll, describe, expect, it, vi } from 'vitest';
import { coverage, formatCoverage, type ReviewedGrant } from '../../iam/coverage.ts';
import { PolicyEvaluator, simulate, type Verdict } from '../../iam/evaluation.ts';
import type { RecordedCall } from '../../iam/recording-front.ts';
import { formatRefusals } from '../../iam/report.ts';
import { bedEnvironment, type StackPolicies, stackPolicies } from '../../iam/stack-policies.ts';

// The real stack's policies (synthesized once, then cached under .state/iam): the machinery is
// tested against what is deployed, not against a policy written for the test.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const { account, region } = bedEnvironment;
const secret = `arn:aws:secretsmanager:${region}:${account}:secret:acm-passphrase/web-1a2b3c-AbCdEf`;
const document = `arn:aws:ssm:${region}:${account}:document/Install-ACMCertificate`;
const instance = (id: string) => `arn:aws:ec2:${region}:${account}:instance/${id}`;

let policies: StackPolicies;
let evaluator: PolicyEvaluator;
beforeAll(async () => {
  policies = await stackPolicies();
  evaluator = new PolicyEvaluator(policies, account);
});

function aCall(overrides: Partial<RecordedCall> & Pick<RecordedCall, 'requests'>): RecordedCall {
  return { appId: 'acm-cert-export-worker', operation: 'test:Call', via: 'test', ...overrides };
}

const decisions = (verdicts: Verdict[]) => verdicts.map((v) => [v.mode, v.role, v.decision]);

describe('evaluating a request against the stack', () => {
  it('allows the worker to create a passphrase secret that carries the target tag', async () => {
    const verdicts = await evaluator.evaluate(
      aCall({
        requests: [
          {
            action: 'secretsmanager:CreateSecret',
            resource: secret,
            context: { 'aws:RequestTag/env': 'dev', 'aws:TagKeys': ['env'] },
          },
        ],
      }),
    );
    expect(decisions(verdicts)).toEqual([
      ['alb', 'taskRole', 'Allowed'],
      ['apigateway', 'taskRole', 'Allowed'],
    ]);
  });

  it('denies a CreateSecret without the target tag (the condition is evaluated)', async () => {
    const verdicts = await evaluator.evaluate(
      aCall({
        requests: [{ action: 'secretsmanager:CreateSecret', resource: secret, context: {} }],
      }),
    );
    expect(verdicts.map((v) => v.decision)).toEqual(['ImplicitlyDenied', 'ImplicitlyDenied']);
  });

  it('denies a SendCommand to an instance without the target tag key, allows one with it', async () => {
    const verdicts = await evaluator.evaluate(
      aCall({
        requests: [
          { action: 'ssm:SendCommand', resource: document, context: {} },
          {
            action: 'ssm:SendCommand',
            resource: instance('i-0tagged'),
            context: { 'ssm:resourceTag/env': 'dev', 'aws:ResourceTag/env': 'dev' },
          },
          {
            action: 'ssm:SendCommand',
            resource: instance('i-0bare'),
            context: { 'ssm:resourceTag/team': 'a', 'aws:ResourceTag/team': 'a' },
          },
        ],
      }),
    );
    const alb = verdicts.filter((v) => v.mode === 'alb').map((v) => v.decision);
    expect(alb).toEqual(['Allowed', 'Allowed', 'ImplicitlyDenied']);
  });

  it('evaluates an API request as the task role in alb mode and as the function role in apigateway mode', async () => {
    const verdicts = await evaluator.evaluate(
      aCall({
        appId: 'acm-cert-export-api',
        requests: [
          {
            action: 'acm:ExportCertificate',
            resource: `arn:aws:acm:${region}:${account}:certificate/abc`,
            context: {},
          },
        ],
      }),
    );
    expect(decisions(verdicts)).toEqual([
      ['alb', 'taskRole', 'Allowed'],
      ['apigateway', 'apiFunctionRole', 'ImplicitlyDenied'],
    ]);
  });

  it('evaluates the combined app id in alb mode only (no such process in apigateway mode)', async () => {
    const verdicts = await evaluator.evaluate(
      aCall({
        appId: 'acm-cert-export',
        requests: [{ action: 'ssm:ListCommands', resource: '*', context: {} }],
      }),
    );
    expect(decisions(verdicts)).toEqual([['alb', 'taskRole', 'Allowed']]);
  });

  it('reports a refused request with the app id, role, action, resource and context', async () => {
    const verdicts = await evaluator.evaluate(
      aCall({
        operation: 'sqs:SendMessage',
        requests: [
          {
            action: 'sqs:SendMessage',
            resource: `arn:aws:sqs:${region}:${account}:someone-elses-queue`,
            context: {},
          },
        ],
      }),
    );
    const report = formatRefusals('a file', verdicts, []);
    expect(report).toContain(
      `[alb] app/acm-cert-export-worker as the ECS task role: sqs:SendMessage on arn:aws:sqs:${region}:${account}:someone-elses-queue → ImplicitlyDenied; context {}; call sqs:SendMessage`,
    );
    expect(report).toContain('[apigateway]');
  });

  it('reports a call it could not evaluate', () => {
    const report = formatRefusals(
      'a file',
      [],
      [aCall({ operation: 'ssm:GetParameter', requests: [], problem: 'not modelled' })],
    );
    expect(report).toMatch(/ssm:GetParameter could not be evaluated: not modelled/);
  });

  it('has nothing to report when everything is allowed', async () => {
    const verdicts = await evaluator.evaluate(
      aCall({ requests: [{ action: 'ec2:DescribeInstances', resource: '*', context: {} }] }),
    );
    expect(formatRefusals('a file', verdicts, [])).toBeUndefined();
  });
});

describe('the queues’ resource policies', () => {
  const queue = `arn:aws:sqs:${region}:${account}:acm-cert-export-jobs`;

  it('are evaluated with the identity policy: the worker sends to the job queue over TLS', async () => {
    expect(policies.alb.resourcePolicies[queue]).toBeDefined();
    const verdicts = await evaluator.evaluate(
      aCall({ requests: [{ action: 'sqs:SendMessage', resource: queue, context: {} }] }),
    );
    expect(verdicts.map((v) => v.decision)).toEqual(['Allowed', 'Allowed']);
  });

  it('refuse a request without TLS, whatever the role allows (explicit Deny)', async () => {
    const role = evaluator.roleIn('alb', 'taskRole');
    const decided = await simulate(
      `arn:aws:iam::${account}:role/${role.logicalId}`,
      role.policies,
      { action: 'sqs:SendMessage', resource: queue, context: { 'aws:SecureTransport': 'false' } },
      account,
      policies.alb.resourcePolicies[queue],
    );
    expect(decided.decision).toBe('ExplicitlyDenied');
  });
});

describe('the coverage of the grants', () => {
  it('reports a grant no request used, and not one that a request used', async () => {
    const verdicts = await evaluator.evaluate(
      aCall({ requests: [{ action: 'ssm:ListCommands', resource: '*', context: {} }] }),
    );
    const { unused } = coverage(policies, verdicts, []);
    const key = (g: { mode: string; role: string; action: string }) =>
      `${g.mode} ${g.role} ${g.action}`;
    const names = unused.map(key);
    expect(names).toContain('alb taskRole ssm:ListCommandInvocations');
    expect(names).not.toContain('alb taskRole ssm:ListCommands');
    // The worker alone used it: the task role in apigateway mode is covered too.
    expect(names).not.toContain('apigateway taskRole ssm:ListCommands');
    expect(formatCoverage({ unused, staleReviews: [] })).toMatch(
      /alb: the ECS task role grants ssm:ListCommandInvocations \(statement ReadCommandStatus\)/,
    );
  });

  it('leaves out reviewed grants, and reports a review that no longer matches anything', async () => {
    const reviewed: ReviewedGrant[] = [
      { role: 'taskRole', action: 'ssm:ListCommandInvocations', reason: 'test' },
      { role: 'taskRole', action: 'ssm:NotGranted', reason: 'test' },
    ];
    const findings = coverage(policies, [], reviewed);
    expect(findings.unused.map((g) => g.action)).not.toContain('ssm:ListCommandInvocations');
    expect(findings.staleReviews).toEqual([reviewed[1]]);
  });
});
