import { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CancelCommandCommand,
  type Command,
  type CommandInvocation,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { anInstance, instances } from '../../../service/test/support/builders/instances.ts';
import { documentName } from '../../../ssm/build-document.ts';
import { aScriptFixture, type ScriptFixture } from '../../../ssm/test/support/fixture.ts';
import {
  type ExportSecretRef,
  installParameters,
} from '../../../ssm/test/support/install-script.ts';
import { aLeaf, type TestLeaf } from '../../../ssm/test/support/pki.ts';
import { readHeldSerial } from '../../run-command/server-root.ts';
import { aStandIn, createInstallDocument, pollUntil, type StandIn } from '../support/stand-in.ts';

const { ec2 } = testClients();
let fx: ScriptFixture;
let leaf: TestLeaf;
/** The secret version holding leaf's key and passphrase. */
let secret: ExportSecretRef;
/** Runs the real install script: the document's own execution timeout, however slow the machine. */
let standIn: StandIn;
/**
 * Short execution and delivery timeouts so that hang and unreachable end quickly: only for
 * servers that never run the script, whose time on a busy machine these would bound.
 */
let quick: StandIn;

beforeAll(async () => {
  fx = await aScriptFixture();
  leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
  secret = await fx.secretFor(leaf);
  standIn = await aStandIn();
  quick = await aStandIn({ executionTimeoutMs: 2000, deliveryTimeoutMs: 1500 });
  await createInstallDocument(standIn.ssm);
});
afterAll(async () => {
  await Promise.all([standIn?.stop(), quick?.stop()]);
  await fx.cleanup();
});

function parameters(overrides: Record<string, string> = {}): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(installParameters(leaf, secret, overrides)).map(([k, v]) => [k, [v]]),
  );
}

async function send(
  tag: string,
  input: Partial<SendCommandCommandInput> = {},
  via: StandIn = standIn,
): Promise<string> {
  const out = await via.ssm.send(
    new SendCommandCommand({
      DocumentName: documentName,
      Targets: [{ Key: 'tag:fleet', Values: [tag] }],
      Parameters: parameters(),
      ...input,
    }),
  );
  return out.Command?.CommandId as string;
}

const terminal = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

async function command(commandId: string, via: StandIn = standIn): Promise<Command> {
  const out = await via.ssm.send(new ListCommandsCommand({ CommandId: commandId }));
  return out.Commands?.[0] as Command;
}

async function settled(commandId: string, via: StandIn = standIn): Promise<Command> {
  const seen = await pollUntil(
    () => command(commandId, via),
    (c) => terminal.includes(c.Status ?? ''),
  );
  return seen.at(-1) as Command;
}

async function invocations(
  commandId: string,
  via: StandIn = standIn,
): Promise<CommandInvocation[]> {
  const out = await via.ssm.send(
    new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }),
  );
  return out.CommandInvocations ?? [];
}

/** The leaf's serial as `openssl x509 -serial` prints it. */
const leafSerial = () => new X509Certificate(leaf.certificate).serialNumber.toUpperCase();

const byInstance = (list: CommandInvocation[]) =>
  Object.fromEntries(list.map((i) => [i.InstanceId, [i.Status, i.StatusDetails]]));

describe('Run Command stand-in: what AWS reports', () => {
  it('settles a command whose tag matches nothing as NoInstancesInTag with no target', async () => {
    await anInstance(ec2, { tags: { fleet: 'empty' }, state: 'stopped' });
    const commandId = await send('empty');
    const seen = await pollUntil(
      () => command(commandId),
      (c) => c.Status === 'Success',
    );
    expect(seen[0]).toMatchObject({ Status: 'Pending', StatusDetails: 'Pending', TargetCount: 0 });
    expect(seen.at(-1)).toMatchObject({
      Status: 'Success',
      StatusDetails: 'NoInstancesInTag',
      TargetCount: 0,
      CompletedCount: 0,
      ErrorCount: 0,
    });
    expect(await invocations(commandId)).toEqual([]);
  });

  it('reports a failing server as Failed next to a healthy one, with MaxErrors honoured', async () => {
    const healthy = await anInstance(ec2, { tags: { fleet: 'mixed' } });
    const failing = await anInstance(ec2, {
      tags: { fleet: 'mixed', 'standin:behaviour': 'fail' },
    });
    const commandId = await send('mixed', { MaxErrors: '1' });
    const done = await settled(commandId);
    expect(done).toMatchObject({ TargetCount: 2, CompletedCount: 2, ErrorCount: 1 });
    expect(byInstance(await invocations(commandId))).toEqual({
      [healthy]: ['Success', 'Success'],
      [failing]: ['Failed', 'Failed'],
    });
    // The real script's install, read as the soak reads every server's.
    expect(await readHeldSerial(standIn.stateDir, healthy, { certName: 'web' })).toBe(leafSerial());
    expect(await readHeldSerial(standIn.stateDir, failing, { certName: 'web' })).toBeUndefined();
    const failed = await standIn.ssm.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: failing }),
    );
    expect(failed).toMatchObject({ ResponseCode: 1, StandardOutputContent: '' });
  });

  it('stops sending once MaxErrors is exceeded', async () => {
    await instances(ec2, 3, { tags: { fleet: 'broken', 'standin:behaviour': 'fail' } });
    const commandId = await send('broken', { MaxConcurrency: '1', MaxErrors: '0' });
    const done = await settled(commandId);
    expect(done).toMatchObject({
      Status: 'Failed',
      TargetCount: 3,
      CompletedCount: 3,
      ErrorCount: 1,
    });
    const [visible] = (
      await pollUntil(
        () => invocations(commandId),
        (list) => list.length === 3,
      )
    ).slice(-1);
    const statuses = (visible ?? []).map((i) => `${i.Status}/${i.StatusDetails}`);
    expect(statuses.sort()).toEqual([
      'Cancelled/Terminated',
      'Cancelled/Terminated',
      'Failed/Failed',
    ]);
  });

  it('times out a hanging server (Execution Timed Out)', async () => {
    const hanging = await anInstance(ec2, { tags: { fleet: 'hang', 'standin:behaviour': 'hang' } });
    const commandId = await send('hang', {}, quick);
    const seen = await pollUntil(
      () => invocations(commandId, quick),
      (list) => terminal.includes(list[0]?.Status ?? ''),
    );
    expect(seen.map((l) => l[0]?.Status)).toContain('InProgress');
    expect(byInstance(seen.at(-1) ?? [])).toEqual({ [hanging]: ['TimedOut', 'ExecutionTimedOut'] });
    expect(await settled(commandId, quick)).toMatchObject({
      Status: 'TimedOut',
      StatusDetails: 'ExecutionTimedOut',
      ErrorCount: 1,
    });
  });

  it('times out delivery to an unreachable server (Delivery Timed Out)', async () => {
    const unreachable = await anInstance(ec2, {
      tags: { fleet: 'offline', 'standin:behaviour': 'unreachable' },
    });
    const commandId = await send('offline', {}, quick);
    const seen = await pollUntil(
      () => invocations(commandId, quick),
      (list) => terminal.includes(list[0]?.Status ?? ''),
    );
    expect(seen.map((l) => l[0]?.Status)).toContain('Pending');
    expect(seen.map((l) => l[0]?.Status)).not.toContain('InProgress');
    expect(byInstance(seen.at(-1) ?? [])).toEqual({
      [unreachable]: ['TimedOut', 'DeliveryTimedOut'],
    });
    expect(await settled(commandId, quick)).toMatchObject({
      Status: 'TimedOut',
      StatusDetails: 'DeliveryTimedOut',
      DeliveryTimedOutCount: 1,
      ErrorCount: 0,
    });
  });

  it('answers at once without running the script on an instant server (benchmarks)', async () => {
    const instant = await anInstance(ec2, {
      tags: { fleet: 'instant', 'standin:behaviour': 'instant' },
    });
    const commandId = await send('instant');
    const seen = await pollUntil(
      () => invocations(commandId),
      (list) => terminal.includes(list[0]?.Status ?? ''),
    );
    expect(byInstance(seen.at(-1) ?? [])).toEqual({ [instant]: ['Success', 'Success'] });
    // It holds what a real install leaves: the full chain of the certificate it was sent.
    expect(await readHeldSerial(standIn.stateDir, instant, { certName: 'web' })).toBe(leafSerial());
    const fullchain = await readFile(
      join(standIn.rootOf(instant), 'etc/ssl/certs/web-fullchain.pem'),
      'utf8',
    );
    expect(fullchain).toBe(`${leaf.certificate.trimEnd()}\n${leaf.chain.trimEnd()}\n`);
    expect(await readdir(join(standIn.rootOf(instant), 'etc/ssl'))).toEqual(['certs']);
  });

  it('leaves nothing on an instant server for Mode=Verify, nor on a failing one', async () => {
    const verifying = await anInstance(ec2, {
      tags: { fleet: 'instant-verify', 'standin:behaviour': 'instant' },
    });
    const failing = await anInstance(ec2, {
      tags: { fleet: 'instant-verify', 'standin:behaviour': 'fail' },
    });
    const commandId = await send('instant-verify', {
      Parameters: parameters({ Mode: 'Verify', CertName: 'checked' }),
    });
    const seen = await pollUntil(
      () => invocations(commandId),
      (found) => found.length === 2 && found.every((i) => terminal.includes(i.Status ?? '')),
    );
    const list = seen.at(-1) ?? [];
    expect(byInstance(list)).toEqual({
      [verifying]: ['Success', 'Success'],
      [failing]: ['Failed', 'Failed'],
    });
    const summary = list.find((i) => i.InstanceId === verifying)?.CommandPlugins?.[0]?.Output;
    expect(JSON.parse(summary ?? '{}')).toMatchObject({ outcome: 'verified' });
    for (const id of [verifying, failing]) {
      expect(await readHeldSerial(standIn.stateDir, id, { certName: 'checked' })).toBeUndefined();
    }
  });

  it('cancels invocations still waiting to be sent', async () => {
    await instances(ec2, 2, { tags: { fleet: 'queue', 'standin:behaviour': 'slow' } });
    const commandId = await send('queue', { MaxConcurrency: '1' });
    await pollUntil(
      () => invocations(commandId),
      (list) => list.some((i) => i.Status === 'InProgress'),
    );
    await standIn.ssm.send(new CancelCommandCommand({ CommandId: commandId }));
    expect(await settled(commandId)).toMatchObject({ Status: 'Cancelled', CompletedCount: 2 });
    const statuses = (await invocations(commandId)).map((i) => i.Status);
    expect(statuses).toEqual(['Cancelled', 'Cancelled']);
  });

  it('skips stopped instances and runs slow ones to completion', async () => {
    const slow = await anInstance(ec2, { tags: { fleet: 'slow', 'standin:behaviour': 'slow' } });
    await anInstance(ec2, { tags: { fleet: 'slow' }, state: 'stopped' });
    await anInstance(ec2, { tags: { fleet: 'slow' }, state: 'terminated' });
    const commandId = await send('slow', { Parameters: parameters({ CertName: 'slow' }) });
    const done = await settled(commandId);
    expect(done).toMatchObject({ Status: 'Success', TargetCount: 1 });
    expect(byInstance(await invocations(commandId))).toEqual({ [slow]: ['Success', 'Success'] });
  });
});
