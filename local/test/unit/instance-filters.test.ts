import type { Instance } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { matchesFilters, readInstanceFilters } from '../../run-command/instance-filters.ts';
import { managedNodeOf } from '../../run-command/managed-nodes.ts';
import { page } from '../../run-command/paging.ts';

function aNode(id: string, tags: Record<string, string> = {}) {
  const instance: Instance = {
    InstanceId: id,
    LaunchTime: new Date(0),
    State: { Name: 'running' },
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
  return managedNodeOf(instance, 0);
}

const web = aNode('i-0000000000000000a', { role: 'web', env: 'prod' });
const db = aNode('i-0000000000000000b', {
  role: 'db',
  'standin:behaviour': 'unreachable',
  'standin:agent-version': '3.2.1241.0',
});

function matching(input: Record<string, unknown>): string[] {
  const filters = readInstanceFilters(input);
  return [web, db].filter((node) => matchesFilters(node, filters)).map((n) => n.instanceId);
}

describe('DescribeInstanceInformation filters', () => {
  it.each([
    ['no filter', {}, [web, db]],
    ['tag, values OR', { Filters: [{ Key: 'tag:role', Values: ['web', 'db'] }] }, [web, db]],
    [
      'tags, keys AND',
      {
        Filters: [
          { Key: 'tag:role', Values: ['web'] },
          { Key: 'tag:env', Values: ['dev'] },
        ],
      },
      [],
    ],
    ['tag-key', { Filters: [{ Key: 'tag-key', Values: ['env'] }] }, [web]],
    ['PingStatus', { Filters: [{ Key: 'PingStatus', Values: ['Online'] }] }, [web]],
    [
      'Inactive (deprecated, valid)',
      { Filters: [{ Key: 'PingStatus', Values: ['Inactive'] }] },
      [],
    ],
    ['AgentVersion', { Filters: [{ Key: 'AgentVersion', Values: ['3.2.1241.0'] }] }, [db]],
    ['InstanceIds', { Filters: [{ Key: 'InstanceIds', Values: [web.instanceId] }] }, [web]],
    ['PlatformTypes', { Filters: [{ Key: 'PlatformTypes', Values: ['Windows'] }] }, []],
    ['ResourceType', { Filters: [{ Key: 'ResourceType', Values: ['EC2Instance'] }] }, [web, db]],
    [
      'SourceTypes',
      { Filters: [{ Key: 'SourceTypes', Values: ['AWS::EC2::Instance'] }] },
      [web, db],
    ],
    ['ActivationIds (none on EC2)', { Filters: [{ Key: 'ActivationIds', Values: ['x'] }] }, []],
    [
      'the legacy list',
      { InstanceInformationFilterList: [{ key: 'PingStatus', valueSet: ['ConnectionLost'] }] },
      [db],
    ],
  ])('%s', (_, input, expected) => {
    expect(matching(input)).toEqual(expected.map((n) => n.instanceId));
  });

  it.each([
    [{ Filters: [{ Key: 'Colour', Values: ['x'] }] }, 'InvalidFilterKey'],
    [{ Filters: [{ Key: 'tag:', Values: ['x'] }] }, 'InvalidFilterKey'],
    [
      { Filters: [{ Key: 'PingStatus', Values: ['online'] }] },
      'InvalidInstanceInformationFilterValue',
    ],
    [
      { Filters: [{ Key: 'ResourceType', Values: ['Document'] }] },
      'InvalidInstanceInformationFilterValue',
    ],
    [{ Filters: [{ Key: 'InstanceIds', Values: ['i-123'] }] }, 'InvalidInstanceId'],
    [{ Filters: [{ Key: 'PingStatus', Values: [] }] }, 'ValidationException'],
    [
      { Filters: [{ Key: 'PingStatus', Values: Array(101).fill('Online') }] },
      'ValidationException',
    ],
    [{ Filters: [{ Key: 'PingStatus', Values: [''] }] }, 'ValidationException'],
    [{ Filters: [{ Values: ['Online'] }] }, 'ValidationException'],
    [{ Filters: 'PingStatus=Online' }, 'ValidationException'],
    [
      {
        Filters: [
          { Key: 'tag-key', Values: ['role'] },
          { Key: 'InstanceIds', Values: [web.instanceId] },
        ],
      },
      'ValidationException',
    ],
    [
      { InstanceInformationFilterList: [{ key: 'tag-key', valueSet: ['role'] }] },
      'ValidationException',
    ],
    [
      { InstanceInformationFilterList: [{ Key: 'PingStatus', Values: ['Online'] }] },
      'ValidationException',
    ],
  ])('refuses %j with %s', (input, code) => {
    expect(() => readInstanceFilters(input)).toThrow();
    try {
      readInstanceFilters(input);
    } catch (error) {
      expect((error as { code?: string }).code).toBe(code);
    }
  });
});

describe('paging', () => {
  const items = Array.from({ length: 12 }, (_, i) => i);
  const bounds = { min: 5, max: 50, default: 10 };

  it('walks every item once, page by page, with no token after the last', () => {
    const first = page(items, {}, bounds);
    expect(first.slice).toEqual(items.slice(0, 10));
    const second = page(items, { NextToken: first.NextToken }, bounds);
    expect(second.slice).toEqual([10, 11]);
    expect(second).not.toHaveProperty('NextToken');
  });

  it.each([
    [{ MaxResults: 4 }, 'ValidationException'],
    [{ MaxResults: 51 }, 'ValidationException'],
    [{ MaxResults: 7.5 }, 'ValidationException'],
    [{ NextToken: '' }, 'InvalidNextToken'],
    [{ NextToken: 'bm90LWEtbnVtYmVy' }, 'InvalidNextToken'],
  ])('refuses %j', (input, code) => {
    try {
      page(items, input, bounds);
      expect.unreachable();
    } catch (error) {
      expect((error as { code?: string }).code).toBe(code);
    }
  });
});
