import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { WebAclSettings } from './settings.ts';

/**
 * Requests one client IP may make in five minutes before WAF blocks it for a while. A CLI that
 * waits on a deployment polls every few seconds (about 150 requests in five minutes); a script
 * deploying many certificates at once stays well below this too.
 */
export const requestsPerIpPerFiveMinutes = 1000;

/** The AWS managed rule groups of a web ACL the stack creates, in evaluation order. */
export const managedRuleGroups = [
  // Common exploits (OWASP-style); the API's bodies are small JSON, far under its size limits.
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  // Addresses Amazon threat intelligence lists as sources of bots and attacks.
  'AWSManagedRulesAmazonIpReputationList',
] as const;

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

/** A regional web ACL: the managed rule groups above and a per-IP rate limit. */
function createWebAcl(scope: Construct, id: string): wafv2.CfnWebACL {
  return new wafv2.CfnWebACL(scope, id, {
    scope: 'REGIONAL',
    description: 'acm-cert-export API: AWS managed rules and a per-IP rate limit',
    defaultAction: { allow: {} },
    visibilityConfig: visibility('AcmCertExportApi'),
    rules: [
      ...managedRuleGroups.map((name, priority) => ({
        name,
        priority,
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
        overrideAction: { none: {} },
        visibilityConfig: visibility(name),
      })),
      {
        name: 'RequestsPerIp',
        priority: managedRuleGroups.length,
        statement: {
          rateBasedStatement: {
            limit: requestsPerIpPerFiveMinutes,
            aggregateKeyType: 'IP',
            evaluationWindowSec: 300,
          },
        },
        action: { block: {} },
        visibilityConfig: visibility('RequestsPerIp'),
      },
    ],
  });
}

/**
 * Puts the API's entry (the ALB, or the API Gateway stage) behind a WAF web ACL when the
 * settings ask for one: one the stack creates, or an existing one by ARN. Returns whether it did.
 */
export function protectWithWebAcl(
  scope: Construct,
  settings: WebAclSettings,
  resourceArn: string,
): boolean {
  if (settings.kind === 'none') return false;
  const webAclArn =
    settings.kind === 'existing' ? settings.arn : createWebAcl(scope, 'WebAcl').attrArn;
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn, webAclArn });
  return true;
}
