import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DescribeDocumentCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  DescribeDocumentCommand as MotoDescribe,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { motoEndpoint } from '../../../service/test/support/bed-lane.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import { documentName, stepName } from '../../../ssm/build-document.ts';
import { aScriptFixture, type ScriptFixture } from '../../../ssm/test/support/fixture.ts';
import {
  type ExportSecretRef,
  installParameters,
} from '../../../ssm/test/support/install-script.ts';
import { aLeaf, type TestLeaf } from '../../../ssm/test/support/pki.ts';
import { aStandIn, createInstallDocument, pollUntil, type StandIn } from '../support/stand-in.ts';

const { ec2 } = testClients();
let standIn: StandIn;
let fx: ScriptFixture;
let leaf: TestLeaf;
/** The secret version holding leaf's key and passphrase. */
let secret: ExportSecretRef;

/** SendCommand's Parameters for the install document. */
function parameters(overrides: Record<string, string> = {}): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(installParameters(leaf, secret, overrides)).map(([k, v]) => [k, [v]]),
  );
}

beforeAll(async () => {
  standIn = await aStandIn();
  fx = await aScriptFixture();
  leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
  secret = await fx.secretFor(leaf);
  await createInstallDocument(standIn.ssm);
});
afterAll(async () => {
  await standIn.stop();
  await fx.cleanup();
});

describe('the Run Command stand-in with the production SSM client', () => {
  it('forwards document calls to moto unchanged', async () => {
    const viaStandIn = await standIn.ssm.send(new DescribeDocumentCommand({ Name: documentName }));
    const moto = new SSMClient({ region: 'us-east-1', endpoint: motoEndpoint() });
    const direct = await moto.send(new MotoDescribe({ Name: documentName }));
    moto.destroy();
    expect(viaStandIn.Document?.Name).toBe(documentName);
    expect(viaStandIn.Document?.Hash).toBe(direct.Document?.Hash);
    expect(viaStandIn.Document?.Parameters?.map((p) => p.Name)).toContain('CertName');
  });

  it('installs on every running tagged server and reports Pending → InProgress → Success', async () => {
    const tag = 'web-happy';
    const running = await anInstance(ec2, { tags: { app: tag } });
    await anInstance(ec2, { tags: { app: tag }, state: 'stopped' });
    const sent = await standIn.ssm.send(
      new SendCommandCommand({
        DocumentName: documentName,
        Targets: [{ Key: 'tag:app', Values: [tag] }],
        Parameters: parameters(),
        Comment: 'install web',
      }),
    );
    const commandId = sent.Command?.CommandId as string;
    expect(sent.Command).toMatchObject({
      Status: 'Pending',
      TargetCount: 1,
      Comment: 'install web',
    });

    // Eventual consistency, as on AWS: nothing to see right after SendCommand.
    const first = await standIn.ssm.send(
      new ListCommandInvocationsCommand({ CommandId: commandId }),
    );
    expect(first.CommandInvocations).toEqual([]);
    await expect(
      standIn.ssm.send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: running }),
      ),
    ).rejects.toMatchObject({ name: 'InvocationDoesNotExist' });

    const seen = await pollUntil(
      async () =>
        (
          await standIn.ssm.send(
            new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }),
          )
        ).CommandInvocations ?? [],
      (list) => list[0]?.Status === 'Success' || list[0]?.Status === 'Failed',
    );
    const statuses = [...new Set(seen.map((list) => list[0]?.Status ?? 'none'))];
    expect(statuses).toEqual(['none', 'InProgress', 'Success']);
    const invocation = seen.at(-1)?.[0];
    expect(invocation).toMatchObject({
      InstanceId: running,
      StatusDetails: 'Success',
      CommandPlugins: [{ Name: stepName, Status: 'Success', ResponseCode: 0 }],
    });

    const result = await standIn.ssm.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: running }),
    );
    expect(result).toMatchObject({ Status: 'Success', ResponseCode: 0, PluginName: stepName });
    const summary = JSON.parse(result.StandardOutputContent?.trim().split('\n').at(-1) ?? '');
    expect(summary).toMatchObject({
      outcome: 'installed',
      serial: new X509Certificate(leaf.certificate).serialNumber.toUpperCase(),
    });
    const root = join(standIn.stateDir, 'servers', running);
    expect(await readFile(join(root, 'etc/ssl/certs/web-fullchain.pem'), 'utf8')).toBe(
      leaf.certificate + leaf.chain,
    );

    const [command] =
      (await standIn.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands ?? [];
    expect(command).toMatchObject({
      Status: 'Success',
      StatusDetails: 'Success',
      TargetCount: 1,
      CompletedCount: 1,
      ErrorCount: 0,
      DeliveryTimedOutCount: 0,
      DocumentName: documentName,
    });
    // The command keeps the parameters as sent (which is why no secret may be one).
    expect(command?.Parameters?.CertName).toEqual(['web']);
  });

  it('reports the script exit code and summary of a refused install as Failed', async () => {
    const tag = 'web-downgrade';
    const server = await anInstance(ec2, { tags: { app: tag } });
    const send = async (l: TestLeaf) =>
      (
        await standIn.ssm.send(
          new SendCommandCommand({
            DocumentName: documentName,
            InstanceIds: [server],
            Parameters: Object.fromEntries(
              Object.entries(installParameters(l, await fx.secretFor(l))).map(([k, v]) => [k, [v]]),
            ),
          }),
        )
      ).Command?.CommandId as string;
    const done = (commandId: string) =>
      pollUntil(
        () => standIn.ssm.send(new ListCommandsCommand({ CommandId: commandId })),
        (out) => ['Success', 'Failed'].includes(out.Commands?.[0]?.Status ?? ''),
      );
    const newer = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    await done(await send(newer));
    const older = await aLeaf(fx.ca, {
      passphrase: fx.passphrase,
      notBefore: new Date(Date.now() - 5 * 86_400_000),
    });
    const refused = await send(older);
    const [last] = (await done(refused)).slice(-1);
    expect(last?.Commands?.[0]).toMatchObject({ Status: 'Failed', ErrorCount: 1 });
    const result = await standIn.ssm.send(
      new GetCommandInvocationCommand({ CommandId: refused, InstanceId: server }),
    );
    expect(result).toMatchObject({ Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 13 });
    expect(result.StandardOutputContent).toMatch(/"outcome":"downgrade-refused"/);
    expect(result.StandardErrorContent).toMatch(/later NotBefore/);
  });
});

describe('SendCommand checks like AWS', () => {
  const send = (input: Partial<ConstructorParameters<typeof SendCommandCommand>[0]>) =>
    standIn.ssm.send(
      new SendCommandCommand({
        DocumentName: documentName,
        Targets: [{ Key: 'tag:app', Values: ['nothing-here'] }],
        Parameters: parameters(),
        ...input,
      }),
    );

  it.each([
    ['CertName', '../../etc/passwd'],
    ['CertName', 'a b'],
    ['CertName', '$(id)'],
    ['CertName', '`id`'],
    ['CertName', 'web\nx'],
    ['CertName', 'a"b'],
    ['CertDir', '/etc/$(id)'],
    ['ReloadCommand', 'systemctl reload nginx; rm -rf /'],
    ['ReloadCommand', "sh -c 'id'"],
    ['SecretId', 'prod/db-password'],
    ['Force', 'yes'],
  ])('refuses %s = %j with InvalidParameters', async (name, value) => {
    await expect(send({ Parameters: parameters({ [name]: value }) })).rejects.toMatchObject({
      name: 'InvalidParameters',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses an unknown parameter and a missing required one', async () => {
    await expect(send({ Parameters: { ...parameters(), Extra: ['x'] } })).rejects.toMatchObject({
      name: 'InvalidParameters',
    });
    const { CertName: _, ...rest } = parameters();
    await expect(send({ Parameters: rest })).rejects.toMatchObject({ name: 'InvalidParameters' });
  });

  it('refuses an unknown document with InvalidDocument', async () => {
    await expect(send({ DocumentName: 'No-Such-Document' })).rejects.toMatchObject({
      name: 'InvalidDocument',
    });
  });

  it('refuses InstanceIds naming a stopped or unknown instance with InvalidInstanceId', async () => {
    const stopped = await anInstance(ec2, { state: 'stopped' });
    for (const id of [stopped, 'i-0123456789abcdef0']) {
      await expect(send({ Targets: undefined, InstanceIds: [id] })).rejects.toMatchObject({
        name: 'InvalidInstanceId',
      });
    }
  });
});
