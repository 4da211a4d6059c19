import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  type Command,
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  type InstanceInformation,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { anInstance, instances } from '../../../service/test/support/builders/instances.ts';
import { currentAgentVersion } from '../../run-command/managed-nodes.ts';
import {
  aMovableClock,
  aStandIn,
  createProbeDocument,
  pollUntil,
  probeDocumentName,
  type StandIn,
} from '../support/stand-in.ts';

const { ec2 } = testClients();

beforeAll(async () => {
  const standIn = await aStandIn();
  await createProbeDocument(standIn.ssm);
  await standIn.stop();
});

/** What is sent does not matter here, only where it goes: the probe document. */
async function send(standIn: StandIn, input: Partial<SendCommandCommandInput>): Promise<Command> {
  const out = await standIn.ssm.send(
    new SendCommandCommand({ DocumentName: probeDocumentName, ...input }),
  );
  return out.Command as Command;
}

async function settled(standIn: StandIn, commandId: string): Promise<Command> {
  const seen = await pollUntil(
    async () =>
      (await standIn.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0],
    (c) => ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(c?.Status ?? ''),
  );
  return seen.at(-1) as Command;
}

async function invokedOn(standIn: StandIn, commandId: string): Promise<string[]> {
  const [list] = (
    await pollUntil(
      async () =>
        (
          await standIn.ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId }))
        ).CommandInvocations ?? [],
      (invocations) => invocations.length > 0,
    )
  ).slice(-1);
  return (list ?? []).map((i) => i.InstanceId as string).sort();
}

async function describeNodes(
  standIn: StandIn,
  input: DescribeInstanceInformationCommandInput,
): Promise<InstanceInformation[]> {
  const out = await standIn.ssm.send(new DescribeInstanceInformationCommand(input));
  return out.InstanceInformationList ?? [];
}

const idsOf = (nodes: InstanceInformation[]) => nodes.map((n) => n.InstanceId as string).sort();

/** AWS's real delay is often more than a minute; the movable clock skips it. */
const registrationMs = 120_000;

describe('a new server is not a managed node until its agent registers', () => {
  let standIn: StandIn;
  let clock: ReturnType<typeof aMovableClock>;
  beforeEach(async () => {
    clock = aMovableClock();
    standIn = await aStandIn({ agentRegistrationMs: registrationMs }, { clock: clock.now });
  });
  afterEach(async () => {
    await standIn.stop();
  });

  it('answers InvalidInstanceId to SendCommand by InstanceIds before, and runs it after', async () => {
    const server = await anInstance(ec2, { tags: { fleet: 'booting' } });
    await expect(send(standIn, { InstanceIds: [server] })).rejects.toMatchObject({
      name: 'InvalidInstanceId',
      message: `Instances [[${server}]] not in a valid state for account 123456789012`,
      $metadata: { httpStatusCode: 400 },
    });
    expect(
      await describeNodes(standIn, { Filters: [{ Key: 'InstanceIds', Values: [server] }] }),
    ).toEqual([]);

    clock.advance(registrationMs + 1000);
    const command = await send(standIn, { InstanceIds: [server] });
    expect(command).toMatchObject({ TargetCount: 1 });
    expect(await settled(standIn, command.CommandId as string)).toMatchObject({
      Status: 'Success',
      CompletedCount: 1,
    });
    expect(
      idsOf(await describeNodes(standIn, { Filters: [{ Key: 'InstanceIds', Values: [server] }] })),
    ).toEqual([server]);
  });

  it('skips unregistered servers of a tag target, then includes them once registered', async () => {
    const early = await anInstance(ec2, {
      tags: { fleet: 'rolling', 'standin:agent-registers-after-ms': '0' },
    });
    const late = await anInstance(ec2, { tags: { fleet: 'rolling' } });
    const target = { Targets: [{ Key: 'tag:fleet', Values: ['rolling'] }] };

    const first = await send(standIn, target);
    expect(first.TargetCount).toBe(1);
    expect(await settled(standIn, first.CommandId as string)).toMatchObject({
      Status: 'Success',
      TargetCount: 1,
    });
    expect(await invokedOn(standIn, first.CommandId as string)).toEqual([early]);

    clock.advance(registrationMs + 1000);
    const second = await send(standIn, target);
    expect(second.TargetCount).toBe(2);
    expect(await settled(standIn, second.CommandId as string)).toMatchObject({
      Status: 'Success',
      TargetCount: 2,
      CompletedCount: 2,
    });
    expect(await invokedOn(standIn, second.CommandId as string)).toEqual([early, late].sort());
  });

  it('ends a tag matching only unregistered servers as No Instances In Tag', async () => {
    await instances(ec2, 2, { tags: { fleet: 'all-booting' } });
    const command = await send(standIn, {
      Targets: [{ Key: 'tag:fleet', Values: ['all-booting'] }],
    });
    expect(command).toMatchObject({ Status: 'Pending', TargetCount: 0 });
    expect(await settled(standIn, command.CommandId as string)).toMatchObject({
      Status: 'Success',
      StatusDetails: 'NoInstancesInTag',
      TargetCount: 0,
    });
  });
});

describe('registration on real time', () => {
  it('lists a server only once LaunchTime plus its registration delay has passed', async () => {
    const standIn = await aStandIn();
    try {
      const delayMs = 2000;
      const server = await anInstance(ec2, {
        tags: { 'standin:agent-registers-after-ms': String(delayMs) },
      });
      const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [server] }));
      const launchedAt = described.Reservations?.[0]?.Instances?.[0]?.LaunchTime?.getTime() ?? 0;
      const filter = { Filters: [{ Key: 'InstanceIds', Values: [server] }] };
      const seen = await pollUntil(
        async () => ({ nodes: await describeNodes(standIn, filter), at: Date.now() }),
        ({ nodes }) => nodes.length === 1,
      );
      // A lower bound only: however slow the machine, the node cannot be listed earlier.
      expect((seen.at(-1)?.at ?? 0) - launchedAt).toBeGreaterThanOrEqual(delayMs);
    } finally {
      await standIn.stop();
    }
  });
});

describe('DescribeInstanceInformation', () => {
  let standIn: StandIn;
  let online: string;
  let lost: string;
  let old: string;
  let stopped: string;
  let terminated: string;
  beforeAll(async () => {
    standIn = await aStandIn();
    online = await anInstance(ec2, { tags: { fleet: 'described', role: 'web' } });
    lost = await anInstance(ec2, {
      tags: { fleet: 'described', 'standin:behaviour': 'unreachable' },
    });
    old = await anInstance(ec2, {
      tags: { fleet: 'described', 'standin:agent-version': '3.2.1241.0' },
    });
    stopped = await anInstance(ec2, { tags: { fleet: 'described' }, state: 'stopped' });
    terminated = await anInstance(ec2, { tags: { fleet: 'described' }, state: 'terminated' });
  });
  afterAll(async () => {
    await standIn.stop();
  });

  it('lists running registered servers in the shape AWS returns; not stopped or terminated ones', async () => {
    const [instance] =
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [online] }))).Reservations?.[0]
        ?.Instances ?? [];
    const before = Date.now();
    const nodes = await describeNodes(standIn, {
      Filters: [{ Key: 'InstanceIds', Values: [online, lost, old, stopped, terminated] }],
    });
    expect(idsOf(nodes)).toEqual([online, lost, old].sort());
    const byId = new Map(nodes.map((n) => [n.InstanceId, n]));
    expect(byId.get(online)).toEqual({
      InstanceId: online,
      PingStatus: 'Online',
      LastPingDateTime: expect.any(Date),
      AgentVersion: currentAgentVersion,
      IsLatestVersion: true,
      PlatformType: 'Linux',
      PlatformName: 'Amazon Linux',
      PlatformVersion: '2023',
      ResourceType: 'EC2Instance',
      IPAddress: instance?.PrivateIpAddress,
      ComputerName: instance?.PrivateDnsName,
    });
    expect(byId.get(online)?.LastPingDateTime?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(byId.get(lost)).toMatchObject({ PingStatus: 'ConnectionLost' });
    expect(byId.get(old)).toMatchObject({ AgentVersion: '3.2.1241.0', IsLatestVersion: false });
  });

  it.each([
    ['tag', [{ Key: 'tag:role', Values: ['web', 'db'] }], () => [online]],
    ['tag-key', [{ Key: 'tag-key', Values: ['role'] }], () => [online]],
    [
      'two tags (AND)',
      [
        { Key: 'tag:fleet', Values: ['described'] },
        { Key: 'tag:role', Values: ['db'] },
      ],
      () => [],
    ],
    ['PingStatus', [{ Key: 'PingStatus', Values: ['ConnectionLost'] }], () => [lost]],
    ['AgentVersion', [{ Key: 'AgentVersion', Values: ['3.2.1241.0'] }], () => [old]],
    [
      'ResourceType EC2Instance',
      [{ Key: 'ResourceType', Values: ['EC2Instance'] }],
      () => [online, lost, old],
    ],
    [
      'ResourceType ManagedInstance',
      [{ Key: 'ResourceType', Values: ['ManagedInstance'] }],
      () => [],
    ],
  ])('filters by %s', async (_, filters, expected) => {
    // Non-tag filters are narrowed to this fleet's servers by an InstanceIds filter.
    const scoped = filters.some((f) => f.Key.startsWith('tag'))
      ? filters
      : [...filters, { Key: 'InstanceIds', Values: [online, lost, old, stopped] }];
    const nodes = await describeNodes(standIn, { Filters: scoped });
    expect(idsOf(nodes)).toEqual(expected().sort());
  });

  it('takes the legacy InstanceInformationFilterList', async () => {
    const nodes = await describeNodes(standIn, {
      InstanceInformationFilterList: [
        { key: 'InstanceIds', valueSet: [online, lost, old] },
        { key: 'PingStatus', valueSet: ['Online'] },
      ],
    });
    expect(idsOf(nodes)).toEqual([online, old].sort());
  });

  it('pages with MaxResults and NextToken, each server once', async () => {
    const fleet = await instances(ec2, 7, { tags: { fleet: 'paged' } });
    const filters = [{ Key: 'tag:fleet', Values: ['paged'] }];
    const first = await standIn.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: filters, MaxResults: 5 }),
    );
    expect(first.InstanceInformationList).toHaveLength(5);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = await standIn.ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: filters,
        MaxResults: 5,
        NextToken: first.NextToken,
      }),
    );
    expect(second.InstanceInformationList).toHaveLength(2);
    expect(second.NextToken).toBeUndefined();
    expect(
      idsOf([...(first.InstanceInformationList ?? []), ...(second.InstanceInformationList ?? [])]),
    ).toEqual(fleet.sort());
    // Without MaxResults AWS returns 10 per page.
    const all = await describeNodes(standIn, {});
    expect(all.length).toBeLessThanOrEqual(10);
  });

  it.each([
    ['MaxResults below 5', { MaxResults: 4 }, 'ValidationException', /greater than or equal to 5/],
    ['MaxResults above 50', { MaxResults: 51 }, 'ValidationException', /less than or equal to 50/],
    ['a NextToken it never gave', { NextToken: 'not-a-token' }, 'InvalidNextToken', /not valid/],
    [
      'an unknown key',
      { Filters: [{ Key: 'Colour', Values: ['blue'] }] },
      'InvalidFilterKey',
      /Colour/,
    ],
    [
      'an unknown PingStatus',
      { Filters: [{ Key: 'PingStatus', Values: ['Asleep'] }] },
      'InvalidInstanceInformationFilterValue',
      /PingStatus filter is invalid, valid values are Online, ConnectionLost, Inactive/,
    ],
    [
      'two ResourceType values',
      { Filters: [{ Key: 'ResourceType', Values: ['EC2Instance', 'ManagedInstance'] }] },
      'InvalidInstanceInformationFilterValue',
      /^ResourceType filter may contain only one value\.$/,
    ],
    [
      'a tag filter next to another filter',
      {
        Filters: [
          { Key: 'tag:fleet', Values: ['described'] },
          { Key: 'PingStatus', Values: ['Online'] },
        ],
      },
      'ValidationException',
      /^Cannot mix tag or inventory filter with any other filter\.$/,
    ],
    [
      'both filter lists',
      {
        Filters: [{ Key: 'PingStatus', Values: ['Online'] }],
        InstanceInformationFilterList: [{ key: 'PingStatus' as const, valueSet: ['Online'] }],
      },
      'ValidationException',
      /cannot be used together/,
    ],
    [
      'a legacy key outside its enum',
      { InstanceInformationFilterList: [{ key: 'tag:fleet' as 'PingStatus', valueSet: ['x'] }] },
      'ValidationException',
      /enum value set/,
    ],
    [
      'a filter without values',
      { Filters: [{ Key: 'PingStatus', Values: [] }] },
      'ValidationException',
      /1 to 100 values/,
    ],
    [
      'an instance id EC2 does not know',
      { Filters: [{ Key: 'InstanceIds', Values: ['i-0123456789abcdef0'] }] },
      'InvalidInstanceId',
      /i-0123456789abcdef0/,
    ],
    [
      'something that is not an instance id',
      { Filters: [{ Key: 'InstanceIds', Values: ['web-1'] }] },
      'InvalidInstanceId',
      /web-1/,
    ],
  ] satisfies [string, DescribeInstanceInformationCommandInput, string, RegExp][])(
    'refuses %s',
    async (_, input, code, message) => {
      const refused = standIn.ssm.send(new DescribeInstanceInformationCommand(input));
      await expect(refused).rejects.toMatchObject({
        name: code,
        $metadata: { httpStatusCode: 400 },
      });
      await expect(refused).rejects.toThrow(message);
    },
  );

  it('refuses a malformed stand-in tag with a message naming the instance and the tag', async () => {
    const typo = await anInstance(ec2, { tags: { 'standin:agent-version': 'latest' } });
    try {
      const expected = {
        name: 'ValidationException',
        message: `stand-in: instance ${typo} has standin:agent-version="latest"; expected a version such as 3.3.2746.0`,
      };
      await expect(send(standIn, { InstanceIds: [typo] })).rejects.toMatchObject(expected);
      await expect(describeNodes(standIn, {})).rejects.toMatchObject(expected);
    } finally {
      // Terminated instances are never read again: the other tests of this file are unaffected.
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [typo] }));
    }
    await expect(describeNodes(standIn, {})).resolves.toEqual(expect.any(Array));
  });
});
