import type { Instance } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  currentAgentVersion,
  isRegistered,
  isTargetable,
  managedNodeOf,
  passesEnvVarParameters,
  pingStatus,
} from '../../run-command/managed-nodes.ts';

const launchedAt = Date.parse('2026-01-02T03:04:05.000Z');

function anInstance(tags: Record<string, string> = {}, state = 'running'): Instance {
  return {
    InstanceId: 'i-0123456789abcdef0',
    PrivateDnsName: 'ip-10-0-0-7.ec2.internal',
    PrivateIpAddress: '10.0.0.7',
    LaunchTime: new Date(launchedAt),
    State: { Name: state as 'running' },
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

describe('an EC2 instance as a managed node', () => {
  it('registers the default delay after LaunchTime, with a current agent that records reloads', () => {
    const node = managedNodeOf(anInstance(), 90_000);
    expect(node).toMatchObject({
      instanceId: 'i-0123456789abcdef0',
      instanceName: 'ip-10-0-0-7.ec2.internal',
      ipAddress: '10.0.0.7',
      state: 'running',
      registeredAt: launchedAt + 90_000,
      behaviour: 'normal',
      agentVersion: currentAgentVersion,
      reload: 'record',
    });
    expect(isRegistered(node, launchedAt + 89_999)).toBe(false);
    expect(isRegistered(node, launchedAt + 90_000)).toBe(true);
  });

  it('takes its registration delay, agent version, reload and behaviour from its tags', () => {
    const node = managedNodeOf(
      anInstance({
        'standin:agent-registers-after-ms': '0',
        'standin:agent-version': '3.2.1241.0',
        'standin:reload': 'fail',
        'standin:behaviour': 'unreachable',
        'standin:run-ms': '3000',
        'standin:container': 'web-1',
      }),
      90_000,
    );
    expect(node).toMatchObject({
      runMs: 3000,
      container: 'web-1',
      registeredAt: launchedAt,
      agentVersion: '3.2.1241.0',
      reload: 'fail',
      behaviour: 'unreachable',
    });
    expect(pingStatus(node)).toBe('ConnectionLost');
    expect(pingStatus(managedNodeOf(anInstance(), 0))).toBe('Online');
    // Without the tag its scripts run on this machine, under its server root.
    expect(managedNodeOf(anInstance(), 0).container).toBeUndefined();
  });

  it('is a target only while its instance runs and once its agent has registered', () => {
    const running = managedNodeOf(anInstance(), 1000);
    expect(isTargetable(running, launchedAt + 999)).toBe(false);
    expect(isTargetable(running, launchedAt + 1000)).toBe(true);
    for (const state of ['stopped', 'terminated', 'pending', 'stopping']) {
      expect(isTargetable(managedNodeOf(anInstance({}, state), 0), launchedAt + 1000), state).toBe(
        false,
      );
    }
  });

  it.each([
    ['standin:agent-registers-after-ms', '-5', /whole number of milliseconds/],
    ['standin:agent-registers-after-ms', '1.5', /whole number of milliseconds/],
    ['standin:agent-registers-after-ms', 'soon', /whole number of milliseconds/],
    ['standin:agent-version', 'latest', /a version such as 3\.3\.2746\.0/],
    ['standin:agent-version', '3.3', /a version such as/],
    ['standin:reload', 'explode', /fail or slow/],
    ['standin:run-ms', '3s', /whole number of milliseconds/],
    ['standin:container', 'web 1', /a container name such as web-1/],
    ['standin:container', '-web', /a container name such as web-1/],
  ])('refuses %s=%j with a ValidationException naming the instance', (tag, value, message) => {
    const make = () => managedNodeOf(anInstance({ [tag]: value }), 0);
    expect(make).toThrow(message);
    expect(make).toThrow(`instance i-0123456789abcdef0 has ${tag}=${JSON.stringify(value)}`);
    try {
      make();
    } catch (error) {
      expect((error as { code?: string }).code).toBe('ValidationException');
    }
  });
});

describe('SSM Agent versions', () => {
  it.each([
    ['3.3.2746.0', '3.3.2746.0', 0],
    ['3.3.2745.9', '3.3.2746.0', -1],
    ['3.3.10000.0', '3.3.2746.0', 1],
    ['3.10.0.0', '3.9.99.0', 1],
    ['3.3.2746', '3.3.2746.0', 0],
  ])('compares %s with %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });

  it('passes ENV_VAR parameters from 3.3.2746.0 on only', () => {
    expect(passesEnvVarParameters('3.3.2746.0')).toBe(true);
    expect(passesEnvVarParameters(currentAgentVersion)).toBe(true);
    expect(passesEnvVarParameters('3.3.2656.0')).toBe(false);
    expect(passesEnvVarParameters('2.3.1319.0')).toBe(false);
  });
});
