import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import {
  AddTagsToResourceCommand,
  CancelCommandCommand,
  type Command,
  type CommandInvocation,
  CreateActivationCommand,
  type CreateActivationCommandInput,
  DeleteActivationCommand,
  DeregisterManagedInstanceCommand,
  DescribeActivationsCommand,
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  type InstanceInformation,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  ListTagsForResourceCommand,
  RemoveTagsFromResourceCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { iamRecorder } from '../../../service/test/support/bed-lane.ts';
import { anInstance, instances } from '../../../service/test/support/builders/instances.ts';
import { documentName } from '../../../ssm/build-document.ts';
import { aScriptFixture, type ScriptFixture } from '../../../ssm/test/support/fixture.ts';
import {
  type ExportSecretRef,
  installParameters,
} from '../../../ssm/test/support/install-script.ts';
import { aLeaf, type TestLeaf } from '../../../ssm/test/support/pki.ts';
import { checkFile } from '../../iam/bed-hooks.ts';
import { repoRoot } from '../../paths.ts';
import { currentAgentVersion } from '../../run-command/managed-nodes.ts';
import {
  aHybridNode,
  aHybridServiceRole,
  aMovableClock,
  aStandIn,
  createInstallDocument,
  createProbeDocument,
  pollUntil,
  probeDocumentName,
  registerHybridNode,
  type StandIn,
} from '../support/stand-in.ts';

// On-premises servers registered with a hybrid activation (`mi-…` managed nodes): activation,
// the agent's registration, tags on the node, DescribeInstanceInformation, Run Command by tag and
// by id, deregistration — and the node's own read of its secret evaluated as its activation's
// role (the servers name themselves: nameServers).

const file = relative(repoRoot, import.meta.filename);
const { ec2, secretsManager } = testClients();
const clock = aMovableClock();
let standIn: StandIn;
/** Short execution and delivery timeouts, for servers that hang or never answer. */
let quick: StandIn;
let fx: ScriptFixture;
let leaf: TestLeaf;
let secret: ExportSecretRef;

beforeAll(async () => {
  standIn = await aStandIn({}, { clock: clock.now, nameServers: true });
  quick = await aStandIn({ executionTimeoutMs: 20_000, deliveryTimeoutMs: 1500 });
  fx = await aScriptFixture();
  leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
  secret = await fx.secretFor(leaf);
  await createInstallDocument(standIn.ssm);
  await createProbeDocument(standIn.ssm);
});
afterAll(async () => {
  await Promise.all([standIn?.stop(), quick?.stop()]);
  await fx?.cleanup();
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const asTags = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

async function anActivation(
  input: Partial<CreateActivationCommandInput> & { roleTags?: Record<string, string> } = {},
  via: StandIn = standIn,
): Promise<{ activationId: string; activationCode: string; iamRole: string }> {
  const { roleTags, ...rest } = input;
  const iamRole = input.IamRole ?? (await aHybridServiceRole(roleTags));
  const out = await via.ssm.send(new CreateActivationCommand({ ...rest, IamRole: iamRole }));
  return {
    activationId: out.ActivationId as string,
    activationCode: out.ActivationCode as string,
    iamRole,
  };
}

async function tagsOf(instanceId: string, via: StandIn = standIn) {
  const out = await via.ssm.send(
    new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: instanceId }),
  );
  return Object.fromEntries((out.TagList ?? []).map((t) => [t.Key, t.Value]));
}

async function describeNodes(
  input: DescribeInstanceInformationCommandInput,
  via: StandIn = standIn,
): Promise<InstanceInformation[]> {
  const out = await via.ssm.send(new DescribeInstanceInformationCommand(input));
  return out.InstanceInformationList ?? [];
}

const idsOf = (nodes: InstanceInformation[]) => nodes.map((n) => n.InstanceId as string).sort();

function installParametersFor(l: TestLeaf, s: ExportSecretRef) {
  return Object.fromEntries(Object.entries(installParameters(l, s)).map(([k, v]) => [k, [v]]));
}

async function send(input: Partial<SendCommandCommandInput>, via: StandIn = standIn) {
  const out = await via.ssm.send(
    new SendCommandCommand({ DocumentName: probeDocumentName, ...input }),
  );
  return out.Command as Command;
}

const terminal = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

async function settled(commandId: string, via: StandIn = standIn): Promise<Command> {
  const seen = await pollUntil(
    async () =>
      (await via.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0],
    (c) => terminal.includes(c?.Status ?? ''),
  );
  return seen.at(-1) as Command;
}

/**
 * The command's invocations once they are visible: a command can end before Run Command shows
 * its invocations (eventual consistency, modelled by the stand-in's invisibleMs).
 */
async function invocations(commandId: string, via: StandIn = standIn) {
  const seen = await pollUntil(
    async () =>
      (
        await via.ssm.send(
          new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }),
        )
      ).CommandInvocations ?? [],
    (list) => list.length > 0,
  );
  return seen.at(-1) ?? [];
}

/** One server's invocation, once visible (InvocationDoesNotExist until then). */
async function invocationOn(commandId: string, instanceId: string, via: StandIn = standIn) {
  const seen = await pollUntil(
    () =>
      via.ssm
        .send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
        .catch((error: { name?: string }) => {
          if (error.name === 'InvocationDoesNotExist') return undefined;
          throw error;
        }),
    (out) => out !== undefined,
  );
  return seen.at(-1) as GetCommandInvocationCommandOutput;
}

const byInstance = (list: CommandInvocation[]) =>
  Object.fromEntries(list.map((i) => [i.InstanceId, [i.Status, i.StatusDetails]]));

describe('an on-premises server from activation to deregistration', () => {
  it('gets the activation’s tags, is listed and installed by tag beside EC2, leaves when untagged and deregistered', async () => {
    const fleet = unique('hybrid');
    // Activation: its tags go to the node (targeted by `fleet`); the role the node will run as
    // carries `env`, which the servers' ABAC policy compares with the secret's `env` tag. The
    // node itself has no `env` tag: only its role's tags can let it read the secret.
    const { activationId, activationCode, iamRole } = await anActivation({
      roleTags: { env: fleet },
      DefaultInstanceName: 'onprem-web',
      RegistrationLimit: 2,
      Tags: asTags({ fleet, site: 'dc-1' }),
    });

    // The agent registers the server: a new mi- id, the activation's tags on the node.
    const before = clock.now();
    const node = await registerHybridNode(standIn, {
      activationId,
      activationCode,
      computerName: 'web-1.dc-1.example',
      ipAddress: '192.0.2.10',
    });
    expect(node).toMatch(/^mi-[0-9a-f]{17}$/);
    expect(await tagsOf(node)).toEqual({ fleet, site: 'dc-1' });
    await standIn.ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: 'ManagedInstance',
        ResourceId: node,
        Tags: asTags({ role: 'web' }),
      }),
    );
    expect(await tagsOf(node)).toEqual({ fleet, site: 'dc-1', role: 'web' });
    const [activation] =
      (
        await standIn.ssm.send(
          new DescribeActivationsCommand({
            Filters: [{ FilterKey: 'ActivationIds', FilterValues: [activationId] }],
          }),
        )
      ).ActivationList ?? [];
    expect(activation).toMatchObject({
      IamRole: iamRole,
      DefaultInstanceName: 'onprem-web',
      RegistrationLimit: 2,
      RegistrationsCount: 1,
      Expired: false,
      Tags: asTags({ fleet, site: 'dc-1' }),
    });

    // Listed by a tag filter beside an EC2 server carrying the same tag (and `env`: an EC2
    // stand-in server's tags stand for its role's).
    const server = await anInstance(ec2, { tags: { fleet, env: fleet } });
    const listed = await describeNodes({ Filters: [{ Key: 'tag:fleet', Values: [fleet] }] });
    expect(idsOf(listed)).toEqual([node, server].sort());
    const byId = new Map(listed.map((n) => [n.InstanceId, n]));
    expect(byId.get(node)).toEqual({
      InstanceId: node,
      PingStatus: 'Online',
      LastPingDateTime: expect.any(Date),
      AgentVersion: currentAgentVersion,
      IsLatestVersion: true,
      PlatformType: 'Linux',
      PlatformName: 'Amazon Linux',
      PlatformVersion: '2023',
      ActivationId: activationId,
      IamRole: iamRole,
      RegistrationDate: expect.any(Date),
      ResourceType: 'ManagedInstance',
      Name: 'onprem-web',
      IPAddress: '192.0.2.10',
      ComputerName: 'web-1.dc-1.example',
    });
    expect(byId.get(node)?.RegistrationDate?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(byId.get(server)).toMatchObject({ ResourceType: 'EC2Instance' });
    expect(byId.get(server)).not.toHaveProperty('ActivationId');

    // SendCommand by tag installs the real certificate files on both. The secret carries
    // env=<fleet>, so each server's read is allowed by the servers' policy: the EC2 one by its
    // instance's tags, the hybrid one only as its activation's role, with the role's tags.
    await secretsManager.send(
      new TagResourceCommand({ SecretId: secret.secretId, Tags: asTags({ env: fleet }) }),
    );
    const install = await standIn.ssm.send(
      new SendCommandCommand({
        DocumentName: documentName,
        Targets: [{ Key: 'tag:fleet', Values: [fleet] }],
        Parameters: installParametersFor(leaf, secret),
      }),
    );
    const installId = install.Command?.CommandId as string;
    expect(install.Command?.TargetCount).toBe(2);
    expect(await settled(installId)).toMatchObject({
      Status: 'Success',
      TargetCount: 2,
      CompletedCount: 2,
      ErrorCount: 0,
    });
    expect(byInstance(await invocations(installId))).toEqual({
      [node]: ['Success', 'Success'],
      [server]: ['Success', 'Success'],
    });
    const onNode = await invocationOn(installId, node);
    expect(JSON.parse(onNode.StandardOutputContent?.trim().split('\n').at(-1) ?? '')).toMatchObject(
      { outcome: 'installed' },
    );
    for (const id of [node, server]) {
      expect(
        await readFile(join(standIn.rootOf(id), 'etc/ssl/certs/web-fullchain.pem'), 'utf8'),
      ).toBe(leaf.certificate + leaf.chain);
    }
    // Both reads were evaluated (one each) and neither would be refused on AWS.
    expect(await checkFile(iamRecorder(), file)).toEqual({ evaluated: 2 });

    // Without the tag the node is no longer listed nor targeted by it.
    await standIn.ssm.send(
      new RemoveTagsFromResourceCommand({
        ResourceType: 'ManagedInstance',
        ResourceId: node,
        TagKeys: ['fleet'],
      }),
    );
    expect(await tagsOf(node)).toEqual({ site: 'dc-1', role: 'web' });
    expect(
      idsOf(await describeNodes({ Filters: [{ Key: 'tag:fleet', Values: [fleet] }] })),
    ).toEqual([server]);
    const untagged = await send({ Targets: [{ Key: 'tag:fleet', Values: [fleet] }] });
    expect(untagged.TargetCount).toBe(1);
    await settled(untagged.CommandId as string);
    expect(Object.keys(byInstance(await invocations(untagged.CommandId as string)))).toEqual([
      server,
    ]);

    // Deregistered: not listed, not reachable by id or by its remaining tags, not taggable.
    await standIn.ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: node }));
    await expect(
      describeNodes({ Filters: [{ Key: 'InstanceIds', Values: [node] }] }),
    ).rejects.toMatchObject({ name: 'InvalidInstanceId' });
    expect(
      idsOf(await describeNodes({ Filters: [{ Key: 'tag:site', Values: ['dc-1'] }] })),
    ).toEqual([]);
    await expect(send({ InstanceIds: [node] })).rejects.toMatchObject({
      name: 'InvalidInstanceId',
      message: `Instances [[${node}]] not in a valid state for account 123456789012`,
    });
    const gone = await send({ Targets: [{ Key: 'tag:site', Values: ['dc-1'] }] });
    expect(await settled(gone.CommandId as string)).toMatchObject({
      StatusDetails: 'NoInstancesInTag',
      TargetCount: 0,
    });
    await expect(tagsOf(node)).rejects.toMatchObject({ name: 'InvalidResourceId' });
    await expect(
      standIn.ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: node })),
    ).rejects.toMatchObject({ name: 'InvalidInstanceId' });

    // Registering again takes a registration of its own: a new id, the last one of the two.
    const again = await registerHybridNode(standIn, { activationId, activationCode });
    expect(again).not.toBe(node);
    await expect(
      registerHybridNode(standIn, { activationId, activationCode }),
    ).rejects.toMatchObject({ name: 'InvalidActivation', message: /registration limit of 2/ });
  });
});

describe('CreateActivation and the agent’s registration', () => {
  it('refuses a role that does not exist or that Systems Manager may not assume', async () => {
    const { iam } = testClients();
    const ec2Role = unique('Ec2Only');
    await iam.send(
      new CreateRoleCommand({
        RoleName: ec2Role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'ec2.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    iam.destroy();
    for (const role of [unique('NoSuchRole'), ec2Role]) {
      await expect(
        standIn.ssm.send(new CreateActivationCommand({ IamRole: role })),
      ).rejects.toMatchObject({
        name: 'ValidationException',
        message: `Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::123456789012:role/${role}`,
      });
    }
  });

  it('expires in 24 hours unless told, at most 30 days ahead', async () => {
    const { activationId } = await anActivation();
    const [activation] =
      (
        await standIn.ssm.send(
          new DescribeActivationsCommand({
            Filters: [{ FilterKey: 'ActivationIds', FilterValues: [activationId] }],
          }),
        )
      ).ActivationList ?? [];
    const lifetime =
      (activation?.ExpirationDate?.getTime() ?? 0) - (activation?.CreatedDate?.getTime() ?? 0);
    expect(lifetime).toBe(86_400_000);
    expect(activation).toMatchObject({ RegistrationLimit: 1, RegistrationsCount: 0 });
    await expect(
      anActivation({ ExpirationDate: new Date(clock.now() + 31 * 86_400_000) }),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(anActivation({ RegistrationLimit: 1001 })).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('refuses a wrong code, an unknown or deleted activation, and one that has expired', async () => {
    const { activationId, activationCode } = await anActivation({ RegistrationLimit: 5 });
    await expect(
      registerHybridNode(standIn, { activationId, activationCode: `${activationCode}x` }),
    ).rejects.toMatchObject({ name: 'InvalidActivation' });
    await expect(
      registerHybridNode(standIn, { activationId: randomUUID(), activationCode }),
    ).rejects.toMatchObject({ name: 'InvalidActivation' });

    const deleted = await anActivation();
    await standIn.ssm.send(new DeleteActivationCommand({ ActivationId: deleted.activationId }));
    await expect(registerHybridNode(standIn, deleted)).rejects.toMatchObject({
      name: 'InvalidActivation',
    });
    await expect(
      standIn.ssm.send(new DeleteActivationCommand({ ActivationId: deleted.activationId })),
    ).rejects.toMatchObject({ name: 'InvalidActivationId' });

    const shortLived = await anActivation({ ExpirationDate: new Date(clock.now() + 3_600_000) });
    // A node registered before expiry stays a node after it.
    const early = await registerHybridNode(standIn, shortLived);
    clock.advance(2 * 3_600_000);
    await expect(registerHybridNode(standIn, shortLived)).rejects.toMatchObject({
      name: 'ActivationExpired',
    });
    const [expired] =
      (
        await standIn.ssm.send(
          new DescribeActivationsCommand({
            Filters: [{ FilterKey: 'ActivationIds', FilterValues: [shortLived.activationId] }],
          }),
        )
      ).ActivationList ?? [];
    expect(expired).toMatchObject({ Expired: true, RegistrationsCount: 1 });
    expect(
      idsOf(await describeNodes({ Filters: [{ Key: 'InstanceIds', Values: [early] }] })),
    ).toEqual([early]);
  });
});

describe('DescribeInstanceInformation with hybrid and EC2 nodes', () => {
  let activation: { activationId: string; activationCode: string; iamRole: string };
  let web: string;
  let lost: string;
  let server: string;
  const fleet = unique('described');
  beforeAll(async () => {
    activation = await anActivation({ RegistrationLimit: 10, Tags: asTags({ fleet }) });
    web = await registerHybridNode(standIn, activation);
    lost = await registerHybridNode(standIn, { ...activation, behaviour: 'unreachable' });
    server = await anInstance(ec2, { tags: { fleet } });
  });

  it.each([
    [
      'ResourceType ManagedInstance',
      { Key: 'ResourceType', Values: ['ManagedInstance'] },
      () => [web, lost],
    ],
    ['ResourceType EC2Instance', { Key: 'ResourceType', Values: ['EC2Instance'] }, () => [server]],
    ['PingStatus ConnectionLost', { Key: 'PingStatus', Values: ['ConnectionLost'] }, () => [lost]],
    ['ActivationIds', { Key: 'ActivationIds', Values: ['(activation)'] }, () => [web, lost]],
    ['IamRole', { Key: 'IamRole', Values: ['(role)'] }, () => [web, lost]],
    [
      'SourceTypes',
      { Key: 'SourceTypes', Values: ['AWS::SSM::ManagedInstance'] },
      () => [web, lost],
    ],
  ])('filters by %s', async (_, filter, expected) => {
    const values = filter.Values.map((v) =>
      v === '(activation)' ? activation.activationId : v === '(role)' ? activation.iamRole : v,
    );
    const nodes = await describeNodes({
      Filters: [
        { Key: filter.Key, Values: values },
        // Narrowed to this fleet's nodes.
        { Key: 'InstanceIds', Values: [web, lost, server] },
      ],
    });
    expect(idsOf(nodes)).toEqual(expected().sort());
  });

  it('shows an unreachable node as ConnectionLost, also when a tag says so later', async () => {
    const [node] = await describeNodes({ Filters: [{ Key: 'InstanceIds', Values: [lost] }] });
    expect(node).toMatchObject({ PingStatus: 'ConnectionLost' });
    const later = await registerHybridNode(standIn, activation);
    await standIn.ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: 'ManagedInstance',
        ResourceId: later,
        Tags: asTags({ 'standin:behaviour': 'unreachable' }),
      }),
    );
    const [tagged] = await describeNodes({ Filters: [{ Key: 'InstanceIds', Values: [later] }] });
    expect(tagged).toMatchObject({ PingStatus: 'ConnectionLost' });
  });

  it('pages EC2 and hybrid nodes together, each once', async () => {
    const paged = unique('paged');
    const pagedActivation = await anActivation({
      RegistrationLimit: 4,
      Tags: asTags({ fleet: paged }),
    });
    const hybrid: string[] = [];
    for (let i = 0; i < 4; i++) hybrid.push(await registerHybridNode(standIn, pagedActivation));
    const ec2Servers = await instances(ec2, 3, { tags: { fleet: paged } });
    const filters = [{ Key: 'tag:fleet', Values: [paged] }];
    const first = await standIn.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: filters, MaxResults: 5 }),
    );
    const second = await standIn.ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: filters,
        MaxResults: 5,
        NextToken: first.NextToken,
      }),
    );
    expect(first.InstanceInformationList).toHaveLength(5);
    expect(second.InstanceInformationList).toHaveLength(2);
    expect(second.NextToken).toBeUndefined();
    expect(
      idsOf([...(first.InstanceInformationList ?? []), ...(second.InstanceInformationList ?? [])]),
    ).toEqual([...hybrid, ...ec2Servers].sort());
  });

  it('refuses an mi- id that is not a registered node', async () => {
    await expect(
      describeNodes({ Filters: [{ Key: 'InstanceIds', Values: ['mi-0123456789abcdef0'] }] }),
    ).rejects.toMatchObject({ name: 'InvalidInstanceId', message: /mi-0123456789abcdef0/ });
  });
});

describe('tags of a managed node', () => {
  it.each([
    [
      'an EC2 instance id',
      'i-0123456789abcdef0',
      'ValidationException',
      'resourceId i-0123456789abcdef0 should be in format mi-[0-9a-f]{17} for resource type ManagedInstance',
    ],
    [
      'an mi- id no node has',
      'mi-0123456789abcdef0',
      'InvalidResourceId',
      "The resource ID isn't valid. Verify that you entered the correct ID and try again.",
    ],
  ])('refuses %s', async (_, id, name, message) => {
    const resource = { ResourceType: 'ManagedInstance' as const, ResourceId: id };
    const attempts = [
      () => standIn.ssm.send(new ListTagsForResourceCommand(resource)),
      () =>
        standIn.ssm.send(new AddTagsToResourceCommand({ ...resource, Tags: asTags({ a: 'b' }) })),
      () => standIn.ssm.send(new RemoveTagsFromResourceCommand({ ...resource, TagKeys: ['a'] })),
    ];
    for (const attempt of attempts) {
      await expect(attempt()).rejects.toMatchObject({ name, message });
    }
  });

  it('refuses a 51st tag and malformed ones', async () => {
    const node = await aHybridNode(standIn, { tags: { env: 'many' } });
    const many = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, `${i}`]));
    await standIn.ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: 'ManagedInstance',
        ResourceId: node,
        Tags: asTags(many),
      }),
    );
    expect(Object.keys(await tagsOf(node))).toHaveLength(50);
    await expect(
      standIn.ssm.send(
        new AddTagsToResourceCommand({
          ResourceType: 'ManagedInstance',
          ResourceId: node,
          Tags: asTags({ one: 'too many' }),
        }),
      ),
    ).rejects.toMatchObject({ name: 'TooManyTagsError' });
    await expect(
      standIn.ssm.send(
        new AddTagsToResourceCommand({
          ResourceType: 'ManagedInstance',
          ResourceId: node,
          Tags: [{ Key: 'env', Value: 'a;b' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('leaves the tags of other resource types to the emulator', async () => {
    await standIn.ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: 'Document',
        ResourceId: probeDocumentName,
        Tags: asTags({ owner: 'tests' }),
      }),
    );
    const out = await standIn.ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'Document', ResourceId: probeDocumentName }),
    );
    expect(out.TagList).toEqual(asTags({ owner: 'tests' }));
  });
});

describe('Run Command on hybrid nodes', () => {
  it('runs by InstanceIds with the agent’s version deciding the SSM_* variables', async () => {
    const current = await aHybridNode(standIn);
    const old = await aHybridNode(standIn, { agentVersion: '3.2.1241.0' });
    const sent = await send({ InstanceIds: [current, old], Parameters: { Message: ['hi'] } });
    expect(sent.TargetCount).toBe(2);
    expect(await settled(sent.CommandId as string)).toMatchObject({
      Status: 'Success',
      CompletedCount: 2,
    });
    const output = async (id: string) =>
      (await invocationOn(sent.CommandId as string, id)).StandardOutputContent;
    expect(await output(current)).toBe('SSM_Message=hi\nprobe done\n');
    expect(await output(old)).toBe('probe done\n');
  });

  it('refuses an mi- id that was never registered, like an unknown EC2 instance', async () => {
    const node = await aHybridNode(standIn);
    await expect(send({ InstanceIds: [node, 'mi-00000000000000000'] })).rejects.toMatchObject({
      name: 'InvalidInstanceId',
      message: 'Instances [[mi-00000000000000000]] not in a valid state for account 123456789012',
    });
  });

  it('fails, answers instantly, never receives, or hangs until cancelled, as its behaviour says', async () => {
    const tag = unique('behaving');
    const failing = await aHybridNode(quick, { tags: { fleet: tag }, behaviour: 'fail' });
    const instant = await aHybridNode(quick, { tags: { fleet: tag }, behaviour: 'instant' });
    const unreachable = await aHybridNode(quick, {
      tags: { fleet: tag },
      behaviour: 'unreachable',
    });
    const hanging = await aHybridNode(quick, { tags: { fleet: tag }, behaviour: 'hang' });
    const sent = await send(
      { Targets: [{ Key: 'tag:fleet', Values: [tag] }], MaxErrors: '4' },
      quick,
    );
    expect(sent.TargetCount).toBe(4);
    const commandId = sent.CommandId as string;
    // The unreachable node's delivery times out; the hanging one runs until it is cancelled.
    await pollUntil(
      () => invocations(commandId, quick),
      (list) =>
        byInstance(list)[hanging]?.[0] === 'InProgress' &&
        byInstance(list)[unreachable]?.[0] === 'TimedOut',
    );
    await quick.ssm.send(new CancelCommandCommand({ CommandId: commandId }));
    await settled(commandId, quick);
    expect(byInstance(await invocations(commandId, quick))).toEqual({
      [failing]: ['Failed', 'Failed'],
      [instant]: ['Success', 'Success'],
      [unreachable]: ['TimedOut', 'DeliveryTimedOut'],
      [hanging]: ['Cancelled', 'Cancelled'],
    });
  });
});
