import { describe, expect, it } from 'vitest';
import { HybridFleet } from '../../run-command/hybrid-nodes.ts';
import { matchesFilters, readInstanceFilters } from '../../run-command/instance-filters.ts';
import { currentAgentVersion, pingStatus } from '../../run-command/managed-nodes.ts';

const now = Date.parse('2026-01-02T03:04:05.000Z');
const hour = 3_600_000;

function anActivation(
  fleet: HybridFleet,
  overrides: Partial<{ limit: number; tags: Record<string, string> }> = {},
) {
  return fleet.createActivation({
    description: '',
    defaultInstanceName: 'onprem',
    iamRole: 'HybridNodes',
    registrationLimit: overrides.limit ?? 1,
    expiresAt: now + hour,
    tags: Object.entries(overrides.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    now,
  });
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

describe('a hybrid activation', () => {
  it('registers a node with the activation’s tags, role and name', () => {
    const fleet = new HybridFleet();
    const activation = anActivation(fleet, { tags: { env: 'dev' } });
    expect(activation.activationId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(activation.activationCode).toMatch(/^[A-Za-z0-9+/]{20}$/);
    const node = fleet.register(activation.activationId, activation.activationCode, {}, now);
    expect(node).toMatchObject({
      resourceType: 'ManagedInstance',
      state: 'running',
      registeredAt: now,
      behaviour: 'normal',
      agentVersion: currentAgentVersion,
      reload: 'record',
      hybrid: { activationId: activation.activationId, iamRole: 'HybridNodes', name: 'onprem' },
    });
    expect(node.instanceId).toMatch(/^mi-[0-9a-f]{17}$/);
    expect(Object.fromEntries(node.tags)).toEqual({ env: 'dev' });
    expect(activation.registrationsCount).toBe(1);
    expect(fleet.managedNodes().map((n) => n.instanceId)).toEqual([node.instanceId]);
  });

  it.each([
    [
      'a wrong code',
      (code: string) => [code.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), now],
      'InvalidActivation',
    ],
    ['after it expired', (code: string) => [code, now + hour], 'ActivationExpired'],
  ] as const)('refuses %s', (_, args, expected) => {
    const fleet = new HybridFleet();
    const activation = anActivation(fleet);
    const [code, at] = args(activation.activationCode);
    expect(() =>
      fleet.register(activation.activationId, code as string, {}, at as number),
    ).toThrow();
    try {
      fleet.register(activation.activationId, code as string, {}, at as number);
    } catch (error) {
      expect(codeOf(error)).toBe(expected);
    }
    expect(activation.registrationsCount).toBe(0);
  });

  it('refuses registrations beyond its limit, and any after it was deleted', () => {
    const fleet = new HybridFleet();
    const activation = anActivation(fleet, { limit: 2 });
    const register = () =>
      fleet.register(activation.activationId, activation.activationCode, {}, now);
    const first = register();
    const second = register();
    expect(first.instanceId).not.toBe(second.instanceId);
    expect(register).toThrow(/registration limit of 2/);
    const other = anActivation(fleet);
    expect(fleet.deleteActivation(other.activationId)).toBe(true);
    expect(() => fleet.register(other.activationId, other.activationCode, {}, now)).toThrow(
      /isn't valid/,
    );
    // Deleting an activation leaves its nodes registered.
    expect(fleet.has(first.instanceId)).toBe(true);
  });

  it('refuses a malformed standin tag of the activation without counting a registration', () => {
    const fleet = new HybridFleet();
    const activation = anActivation(fleet, { tags: { 'standin:agent-version': 'latest' } });
    expect(() =>
      fleet.register(activation.activationId, activation.activationCode, {}, now),
    ).toThrow(/standin:agent-version="latest"/);
    expect(activation.registrationsCount).toBe(0);
    expect(fleet.managedNodes()).toEqual([]);
  });
});

describe('a hybrid node', () => {
  it('behaves as registered until its standin tags say otherwise', () => {
    const fleet = new HybridFleet();
    const activation = anActivation(fleet);
    const { instanceId } = fleet.register(
      activation.activationId,
      activation.activationCode,
      {
        behaviour: 'slow',
        agentVersion: '3.2.1241.0',
        computerName: 'web-1',
        ipAddress: '192.0.2.1',
      },
      now,
    );
    expect(fleet.managedNode(instanceId)).toMatchObject({
      behaviour: 'slow',
      agentVersion: '3.2.1241.0',
      instanceName: 'web-1',
      ipAddress: '192.0.2.1',
    });
    fleet.tagsOf(instanceId)?.set('standin:behaviour', 'unreachable');
    const node = fleet.managedNode(instanceId);
    expect(node?.behaviour).toBe('unreachable');
    expect(node && pingStatus(node)).toBe('ConnectionLost');
  });

  it('is gone once deregistered', () => {
    const fleet = new HybridFleet();
    const activation = anActivation(fleet);
    const { instanceId } = fleet.register(
      activation.activationId,
      activation.activationCode,
      {},
      now,
    );
    expect(fleet.deregister(instanceId)).toBe(true);
    expect(fleet.managedNode(instanceId)).toBeUndefined();
    expect(fleet.tagsOf(instanceId)).toBeUndefined();
    expect(fleet.deregister(instanceId)).toBe(false);
  });

  it.each([
    ['ResourceType ManagedInstance', { Key: 'ResourceType', Values: ['ManagedInstance'] }, true],
    ['ResourceType EC2Instance', { Key: 'ResourceType', Values: ['EC2Instance'] }, false],
    ['SourceTypes', { Key: 'SourceTypes', Values: ['AWS::SSM::ManagedInstance'] }, true],
    ['IamRole', { Key: 'IamRole', Values: ['HybridNodes'] }, true],
    ['another IamRole', { Key: 'IamRole', Values: ['Other'] }, false],
    ['its tag', { Key: 'tag:env', Values: ['dev'] }, true],
  ])('matches a %s filter: %s', (_, filter, expected) => {
    const fleet = new HybridFleet();
    const activation = anActivation(fleet, { tags: { env: 'dev' } });
    const node = fleet.register(activation.activationId, activation.activationCode, {}, now);
    expect(matchesFilters(node, readInstanceFilters({ Filters: [filter] }))).toBe(expected);
    const byActivation = readInstanceFilters({
      Filters: [{ Key: 'ActivationIds', Values: [activation.activationId] }],
    });
    expect(matchesFilters(node, byActivation)).toBe(true);
  });
});
