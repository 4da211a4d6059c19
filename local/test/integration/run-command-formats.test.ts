import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import { documentName } from '../../../ssm/build-document.ts';
import { aScriptFixture, type ScriptFixture } from '../../../ssm/test/support/fixture.ts';
import {
  expectCombinedOf,
  expectP12Of,
  fingerprint,
  keytool,
  keytoolList,
} from '../../../ssm/test/support/formats.ts';
import { exportSecretText, installParameters } from '../../../ssm/test/support/install-script.ts';
import { aLeaf, days, type TestLeaf } from '../../../ssm/test/support/pki.ts';
import { aStandIn, createInstallDocument, pollUntil, type StandIn } from '../support/stand-in.ts';

/**
 * The output formats through Run Command: the stand-in checks the parameters against the
 * document's patterns as SSM does, then runs the real install script on each stand-in server.
 */

const { ec2 } = testClients();
let standIn: StandIn;
let fx: ScriptFixture;
/** The mapping's PKCS#12 password, in every version of its secret (as the worker writes it). */
const password = `P12${randomUUID().replaceAll('-', '')}`;
let passwordFile: string;

beforeAll(async () => {
  standIn = await aStandIn();
  fx = await aScriptFixture();
  passwordFile = join(fx.dir, 'p12-password');
  await writeFile(passwordFile, password, { mode: 0o600 });
  await createInstallDocument(standIn.ssm);
});
afterAll(async () => {
  await standIn.stop();
  await fx.cleanup();
});

/** Sends the install document for `leaf` to the servers tagged app=`tag`; waits for its end. */
async function deploy(tag: string, leaf: TestLeaf, overrides: Record<string, string>) {
  const secret = await fx.secretFor(leaf, exportSecretText(leaf, fx.passphrase, password));
  const sent = await standIn.ssm.send(
    new SendCommandCommand({
      DocumentName: documentName,
      Targets: [{ Key: 'tag:app', Values: [tag] }],
      Parameters: Object.fromEntries(
        Object.entries(installParameters(leaf, secret, overrides)).map(([k, v]) => [k, [v]]),
      ),
    }),
  );
  const commandId = sent.Command?.CommandId as string;
  const seen = await pollUntil(
    () => standIn.ssm.send(new ListCommandsCommand({ CommandId: commandId })),
    (out) => ['Success', 'Failed'].includes(out.Commands?.[0]?.Status ?? ''),
    60_000,
  );
  return { commandId, status: seen.at(-1)?.Commands?.[0]?.Status };
}

async function outcome(commandId: string, instanceId: string) {
  const out = await standIn.ssm.send(
    new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
  );
  return JSON.parse(out.StandardOutputContent?.trim().split('\n').at(-1) ?? '{}') as {
    outcome: string;
    files: string[];
  };
}

const files = (instanceId: string) => {
  const root = join(standIn.stateDir, 'servers', instanceId);
  return {
    key: join(root, 'etc/ssl/private/web-privkey.pem'),
    combined: join(root, 'etc/ssl/private/web-combined.pem'),
    p12: join(root, 'etc/ssl/private/web.p12'),
  };
};

describe('Formats on stand-in servers through Run Command', () => {
  it('installs the combined file and the .p12 on every server, and a renewal rewrites both', async () => {
    const tag = 'formats-haproxy-java';
    const servers = [
      await anInstance(ec2, { tags: { app: tag } }),
      await anInstance(ec2, { tags: { app: tag } }),
    ];
    const first = await aLeaf(fx.ca, {
      passphrase: fx.passphrase,
      notBefore: new Date(Date.now() - days(30)),
    });
    const sent = await deploy(tag, first, { Formats: 'combined,pkcs12' });
    expect(sent.status).toBe('Success');
    for (const server of servers) {
      const f = files(server);
      expect((await outcome(sent.commandId, server)).files).toEqual(
        expect.arrayContaining([f.combined, f.p12]),
      );
      expect(((await stat(f.combined)).mode & 0o777).toString(8)).toBe('600');
      expect(((await stat(f.p12)).mode & 0o777).toString(8)).toBe('600');
      await expectCombinedOf(f.combined, first);
      await expectP12Of(f.p12, passwordFile, first, 'modern');
      if (keytool !== undefined) {
        const listed = await keytoolList(f.p12, passwordFile);
        expect(listed).toMatch(/Entry type: PrivateKeyEntry/);
        expect(listed).toContain(fingerprint(first.certificate));
      }
    }
    if (keytool === undefined) console.warn('keytool not found: its check is skipped');

    // The renewal: ACM's newer certificate, a new secret version with the same password.
    const renewed = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const renewal = await deploy(tag, renewed, { Formats: 'combined,pkcs12' });
    expect(renewal.status).toBe('Success');
    for (const server of servers) {
      expect((await outcome(renewal.commandId, server)).outcome).toBe('installed');
      await expectCombinedOf(files(server).combined, renewed);
      await expectP12Of(files(server).p12, passwordFile, renewed, 'modern');
    }
  });

  it('a mapping without formats writes none', async () => {
    const tag = 'formats-none';
    const server = await anInstance(ec2, { tags: { app: tag } });
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    expect((await deploy(tag, leaf, {})).status).toBe('Success');
    expect(existsSync(files(server).key)).toBe(true);
    expect(existsSync(files(server).combined)).toBe(false);
    expect(existsSync(files(server).p12)).toBe(false);
    expect(await readFile(files(server).key, 'utf8')).toContain('PRIVATE KEY');
  });

  it.each([['jks'], ['combined;id'], ['pkcs12 combined'], ['$(id)']])(
    'refuses Formats = %j with InvalidParameters (the document pattern)',
    async (value) => {
      const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
      await expect(deploy('formats-nothing-here', leaf, { Formats: value })).rejects.toMatchObject({
        name: 'InvalidParameters',
      });
    },
  );
});
