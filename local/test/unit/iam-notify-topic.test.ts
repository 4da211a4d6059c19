import { beforeAll, describe, expect, it, vi } from 'vitest';
import { apiModes } from '../../iam/app-ids.ts';
import { readAwsCall } from '../../iam/aws-wire.ts';
import { simulate } from '../../iam/evaluation.ts';
import type { ResourceLookup } from '../../iam/iam-request.ts';
import { iamRequestsOf } from '../../iam/operation-map.ts';
import { type StackPolicies, stackPolicies } from '../../iam/stack-policies.ts';
import { defaultNames } from '../../provision.ts';
import { emulatorAccount, emulatorAlarmTopicArn, emulatorAlarmTopicName } from '../../stack-env.ts';

// The worker publishes its notifications to the stack's alarm topic, whose name CloudFormation
// makes. The bed names its topic by the logical id (stack-env.ts): these tests keep that name
// and the synthesized stack's grant in step, and check that a publish is evaluated as AWS would.

// Synthesizing (when the cache is cold) takes seconds, far more on a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let policies: StackPolicies;
beforeAll(async () => {
  policies = await stackPolicies();
});

/** A Publish as the SNS client sends it (query protocol), as the recorder reads it. */
function publishCall(topicArn: string) {
  return readAwsCall(
    {
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0',
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    },
    Buffer.from(
      new URLSearchParams({
        Action: 'Publish',
        Version: '2010-03-31',
        TopicArn: topicArn,
        Subject: 'acm-cert-export: expires in 9 days on 1 server - web (env=prod)',
        Message: 'text',
      }).toString(),
    ),
  );
}

describe('the alarm topic on the bed', () => {
  it('is the topic the task role may publish to, in both API modes', () => {
    expect(defaultNames.notifyTopicName).toBe(emulatorAlarmTopicName);
    for (const mode of apiModes) {
      const statement = policies[mode].roles.taskRole?.policies
        .flatMap((p) => p.policy.Statement)
        .find((s) => s.Sid === 'PublishNotifications');
      expect([statement?.Resource].flat(), `${mode}: the grant's topic`).toEqual([
        emulatorAlarmTopicArn,
      ]);
    }
  });

  it('maps a Publish to sns:Publish on its topic', async () => {
    const mapped = await iamRequestsOf(publishCall(emulatorAlarmTopicArn), {
      account: emulatorAccount,
      lookup: {} as ResourceLookup,
    });
    expect(mapped.requests).toEqual([
      { action: 'sns:Publish', resource: emulatorAlarmTopicArn, context: {} },
    ]);
  });

  it('lets the task role publish over HTTPS only (the topic policy denies anything else)', async () => {
    const { alb } = policies;
    const role = alb.roles.taskRole;
    if (role === undefined) throw new Error('no task role');
    const topicPolicy = alb.resourcePolicies[emulatorAlarmTopicArn];
    expect(topicPolicy, 'the topic policy is evaluated with the publish').toBeDefined();
    const principal = `arn:aws:iam::${emulatorAccount}:role/${role.logicalId}`;
    const publish = (secure: string, resource = emulatorAlarmTopicArn) =>
      simulate(
        principal,
        role.policies,
        { action: 'sns:Publish', resource, context: { 'aws:SecureTransport': secure } },
        emulatorAccount,
        topicPolicy,
      );
    expect((await publish('true')).decision).toBe('Allowed');
    expect((await publish('false')).decision).toBe('ExplicitlyDenied');
    const elsewhere = `arn:aws:sns:us-east-1:${emulatorAccount}:another-topic`;
    expect((await publish('true', elsewhere)).decision).toBe('ImplicitlyDenied');
  });
});
