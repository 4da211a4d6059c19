import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { buildStack, defaultRepoRoot } from '../../lib/app.ts';
import { AwsSolutionsChecks } from '../../lib/nag.ts';
import { SettingsError } from '../../lib/settings.ts';
import { managedRuleGroups, requestsPerIpPerFiveMinutes } from '../../lib/web-acl.ts';
import { onlyResource } from './support/policies.ts';
import { baseContext, type Synthesized, synth } from './support/synth.ts';

// Synthesizing takes seconds, far more on a loaded 2-core CI machine than vitest's default
// hook timeout (10 s) allows.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const existingAcl =
  'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/corporate/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';

/** apigateway mode with a web ACL the stack creates, in an account that already has the API Gateway role. */
const apiGatewayBehindWaf = {
  apiMode: 'apigateway',
  webAcl: 'create',
  apiGatewayCloudWatchRole: 'false',
};
/** An internet-facing ALB behind an existing web ACL. */
const albBehindExistingAcl = {
  albInternetFacing: 'true',
  albIngressCidrs: '203.0.113.0/24',
  webAcl: existingAcl,
};

function nagFindings({ app, stack }: Synthesized): string[] {
  return new AwsSolutionsChecks(app)
    .validateScope(stack)
    .violations.map((v) => `${v.severity} ${v.ruleName}`);
}

describe('a WAF web ACL for the API', () => {
  it('is none by default, in both modes', () => {
    synth().template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    synth({ apiMode: 'apigateway' }).template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  it('created by the stack: regional, AWS managed rule groups and a per-IP rate limit, on the API Gateway stage', () => {
    const built = synth(apiGatewayBehindWaf);
    const acl = onlyResource(built.template, 'AWS::WAFv2::WebACL').Properties as {
      Scope: string;
      DefaultAction: unknown;
      Rules: {
        Name: string;
        Statement: Record<string, Record<string, unknown>>;
        Action?: unknown;
      }[];
    };
    expect(acl.Scope).toBe('REGIONAL');
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    expect(acl.Rules.map((r) => r.Name)).toEqual([...managedRuleGroups, 'RequestsPerIp']);
    const rate = acl.Rules.at(-1);
    expect(rate?.Statement.RateBasedStatement).toMatchObject({
      Limit: requestsPerIpPerFiveMinutes,
      AggregateKeyType: 'IP',
    });
    expect(rate?.Action).toEqual({ Block: {} });
    const association = onlyResource(built.template, 'AWS::WAFv2::WebACLAssociation').Properties;
    expect(JSON.stringify(association.ResourceArn)).toContain('/stages/');
    expect(JSON.stringify(association.WebACLArn)).toContain('WebAcl');
  });

  it('existing, by ARN: associated with the ALB, none created', () => {
    const { template } = synth(albBehindExistingAcl);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    const association = onlyResource(template, 'AWS::WAFv2::WebACLAssociation').Properties;
    expect(association.WebACLArn).toBe(existingAcl);
    expect(JSON.stringify(association.ResourceArn)).toMatch(/LoadBalancer/);
  });

  it('leaves cdk-nag nothing to report, and APIG3 is no longer acknowledged behind WAF', () => {
    const built = synth(apiGatewayBehindWaf);
    expect(nagFindings(built)).toEqual([]);
    expect(nagFindings(synth(albBehindExistingAcl))).toEqual([]);
    const api = built.app.node.findAll().find((c) => c.node.path.endsWith('/Api/Api'));
    const acknowledged = JSON.stringify(api?.node.metadata ?? []);
    expect(acknowledged).not.toContain('AwsSolutions-APIG3');
  });

  it('refuses anything but none, create or a regional web ACL ARN', () => {
    expect(() => synth({ webAcl: 'yes' })).toThrow(SettingsError);
    expect(() => synth({ webAcl: existingAcl.replace('regional', 'global') })).toThrow(
      /regional WAFv2 web ACL/,
    );
  });
});

describe('the API Gateway account-level CloudWatch role', () => {
  it('is created by default (AWS::ApiGateway::Account), as before', () => {
    const { template } = synth({ apiMode: 'apigateway' });
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('is left to the account with apiGatewayCloudWatchRole=false: no role, no account setting, logging unchanged', () => {
    const { template } = synth(apiGatewayBehindWaf);
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(JSON.stringify(roles)).not.toContain('AmazonAPIGatewayPushToCloudWatchLogs');
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR' })],
    });
  });
});

describe('the ALB certificate', () => {
  const build = (context: Record<string, unknown>) =>
    buildStack(new App({ context: { ...baseContext, ...context } }), {
      repoRoot: defaultRepoRoot,
    });

  it('must be in the stack’s region (an ALB takes a certificate of its own region only)', () => {
    expect(() =>
      build({
        albCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      }),
    ).toThrow(/albCertificateArn is in eu-west-1, the stack in us-east-1/);
  });

  it('is checked against the region from the environment too, when the context gives none', () => {
    const app = new App({ context: { ...baseContext, region: undefined } });
    expect(() =>
      buildStack(app, { repoRoot: defaultRepoRoot, defaultRegion: 'eu-central-1' }),
    ).toThrow(SettingsError);
  });

  it('is not checked in apigateway mode, where there is no ALB', () => {
    expect(() =>
      build({
        apiMode: 'apigateway',
        albCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      }),
    ).not.toThrow();
  });
});
