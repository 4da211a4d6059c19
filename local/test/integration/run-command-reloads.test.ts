import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelCommandCommand,
  type Command,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  ListCommandsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import { documentName } from '../../../ssm/build-document.ts';
import { aScriptFixture, type ScriptFixture } from '../../../ssm/test/support/fixture.ts';
import {
  type ExportSecretRef,
  installParameters,
} from '../../../ssm/test/support/install-script.ts';
import { aLeaf, type TestLeaf } from '../../../ssm/test/support/pki.ts';
import { defaultReloadCommands } from '../../run-command/server-root.ts';
import {
  aStandIn,
  createInstallDocument,
  createProbeDocument,
  pollUntil,
  probeDocumentName,
  type StandIn,
} from '../support/stand-in.ts';

const { ec2 } = testClients();
let fx: ScriptFixture;
let leaf: TestLeaf;
/** The secret version holding leaf's key and passphrase. */
let secret: ExportSecretRef;
let standIn: StandIn;
let canaryDir: string;
/** A file the allowed command `/usr/bin/touch <canary>` would create if it ran on this host. */
let canary: string;

beforeAll(async () => {
  fx = await aScriptFixture();
  leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
  secret = await fx.secretFor(leaf);
  canaryDir = await mkdtemp(join(tmpdir(), 'host-canary-'));
  canary = join(canaryDir, 'touched');
  standIn = await aStandIn(
    {},
    { reloadCommands: [...defaultReloadCommands, `/usr/bin/touch ${canary}`] },
  );
  await createInstallDocument(standIn.ssm);
  await createProbeDocument(standIn.ssm);
});
afterAll(async () => {
  await standIn.stop();
  await fx.cleanup();
  await rm(canaryDir, { recursive: true, force: true });
});

function parameters(overrides: Record<string, string> = {}): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(installParameters(leaf, secret, overrides)).map(([k, v]) => [k, [v]]),
  );
}

async function sendTo(server: string, document: string, params: Record<string, string[]>) {
  const out = await standIn.ssm.send(
    new SendCommandCommand({ DocumentName: document, InstanceIds: [server], Parameters: params }),
  );
  return out.Command?.CommandId as string;
}

const terminal = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

async function settled(commandId: string): Promise<Command> {
  const seen = await pollUntil(
    async () =>
      (await standIn.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0],
    (c) => terminal.includes(c?.Status ?? ''),
  );
  return seen.at(-1) as Command;
}

/** Runs a command on one server to its end; the server's result. */
async function run(server: string, document: string, params: Record<string, string[]>) {
  const commandId = await sendTo(server, document, params);
  const seen = await pollUntil(
    // Not visible yet right after SendCommand (InvocationDoesNotExist), as on AWS.
    () =>
      standIn.ssm
        .send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: server }))
        .catch((error: { name?: string }) => {
          if (error.name === 'InvocationDoesNotExist') return undefined;
          throw error;
        }),
    (result) => terminal.includes(result?.Status ?? ''),
  );
  return seen.at(-1) as GetCommandInvocationCommandOutput;
}

const install = (server: string, overrides: Record<string, string> = {}) =>
  run(server, documentName, parameters(overrides));

function summaryOf(result: GetCommandInvocationCommandOutput) {
  return JSON.parse(result.StandardOutputContent?.trim().split('\n').at(-1) ?? '');
}

const installedFile = (server: string) =>
  join(standIn.rootOf(server), 'etc/ssl/certs/web-fullchain.pem');

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('old SSM agents', () => {
  it('pass no SSM_* variable before 3.3.2746.0, and do from 3.3.2746.0 on', async () => {
    const old = await anInstance(ec2, { tags: { 'standin:agent-version': '3.3.2656.0' } });
    const first = await anInstance(ec2, { tags: { 'standin:agent-version': '3.3.2746.0' } });
    const oldRun = await run(old, probeDocumentName, { Message: ['hi'] });
    const firstRun = await run(first, probeDocumentName, { Message: ['hi'] });
    expect(oldRun).toMatchObject({ Status: 'Success', StandardOutputContent: 'probe done\n' });
    expect(firstRun).toMatchObject({
      Status: 'Success',
      StandardOutputContent: 'SSM_Message=hi\nprobe done\n',
    });
  });

  it('leave the install script without parameters: it fails and installs nothing', async () => {
    const old = await anInstance(ec2, { tags: { 'standin:agent-version': '3.2.1241.0' } });
    const result = await install(old);
    expect(result).toMatchObject({ Status: 'Failed', ResponseCode: 17 });
    expect(summaryOf(result)).toMatchObject({ outcome: 'agent-too-old', files: [] });
    expect(await exists(installedFile(old))).toBe(false);
  });
});

describe('reload commands on stand-in servers', () => {
  it('are recorded on the server and never run on the host', async () => {
    const [web, other] = [await anInstance(ec2), await anInstance(ec2)];
    const touched = await install(web, { ReloadCommand: `/usr/bin/touch ${canary}` });
    const nginx = await install(other, { ReloadCommand: '/usr/sbin/nginx -s reload' });
    for (const result of [touched, nginx]) {
      expect(result).toMatchObject({ Status: 'Success', ResponseCode: 0 });
      expect(summaryOf(result)).toMatchObject({ outcome: 'installed', reloaded: true });
    }
    expect(await standIn.reloadsOf(web)).toEqual([
      { time: expect.any(String), argv: ['/usr/bin/touch', canary], exitCode: 0 },
    ]);
    expect(await standIn.reloadsOf(other)).toEqual([
      { time: expect.any(String), argv: ['/usr/sbin/nginx', '-s', 'reload'], exitCode: 0 },
    ]);
    // The host's /usr/bin/touch never ran.
    expect(await exists(canary)).toBe(false);
  });

  it('are refused when not in the allow-list the stand-in wrote', async () => {
    const server = await anInstance(ec2);
    const result = await install(server, { ReloadCommand: '/usr/sbin/nginx -s stop' });
    expect(result).toMatchObject({ Status: 'Failed', ResponseCode: 18 });
    expect(summaryOf(result)).toMatchObject({ outcome: 'reload-not-allowed' });
    expect(await standIn.reloadsOf(server)).toEqual([]);
  });

  it("come from a server's own allow-list when a test placed one", async () => {
    const server = await anInstance(ec2);
    const etc = join(standIn.rootOf(server), 'etc/acm-cert-export');
    await mkdir(etc, { recursive: true });
    await writeFile(join(etc, 'reload-commands'), '# this server only tests\n/usr/sbin/nginx -t\n');
    const refused = await install(server, { ReloadCommand: '/usr/sbin/nginx -s reload' });
    expect(summaryOf(refused)).toMatchObject({ outcome: 'reload-not-allowed' });
    const tested = await install(server, { ReloadCommand: '/usr/sbin/nginx -t' });
    expect(summaryOf(tested)).toMatchObject({ outcome: 'installed', reloaded: true });
    expect((await standIn.reloadsOf(server)).map((r) => r.argv)).toEqual([
      ['/usr/sbin/nginx', '-t'],
    ]);
  });

  it('fail on a standin:reload=fail server: the script restores the previous files', async () => {
    const server = await anInstance(ec2, { tags: { 'standin:reload': 'fail' } });
    const result = await install(server, { ReloadCommand: '/usr/sbin/nginx -s reload' });
    expect(result).toMatchObject({ Status: 'Failed', ResponseCode: 14 });
    expect(result.StandardErrorContent).toContain('standin:reload=fail');
    expect(summaryOf(result)).toMatchObject({ outcome: 'reload-failed-rolled-back' });
    expect(await standIn.reloadsOf(server)).toEqual([
      { time: expect.any(String), argv: ['/usr/sbin/nginx', '-s', 'reload'], exitCode: 1 },
    ]);
    expect(await exists(installedFile(server))).toBe(false);
  });

  it('can be cancelled on a standin:reload=slow server: processes killed, files rolled back', async () => {
    const server = await anInstance(ec2, { tags: { 'standin:reload': 'slow' } });
    const root = standIn.rootOf(server);
    const commandId = await sendTo(
      server,
      documentName,
      parameters({ ReloadCommand: '/usr/sbin/nginx -s reload' }),
    );
    const processes = () => execFileSync('ps', ['-eo', 'args']).toString();
    // The slow reload runs once the files are in place; its processes name the server's root.
    await pollUntil(
      async () => processes().includes(`stand-in-slow-reload ${root}`),
      (running) => running,
    );
    await standIn.ssm.send(new CancelCommandCommand({ CommandId: commandId }));
    expect(await settled(commandId)).toMatchObject({
      Status: 'Cancelled',
      StatusDetails: 'Cancelled',
    });
    // The script got SIGTERM, restored the (absent) previous files and removed its temp files.
    expect(await readdir(join(root, 'etc/ssl/private'))).toEqual([]);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(processes().includes(root)).toBe(false);
    expect((await standIn.reloadsOf(server)).map((r) => r.argv)).toEqual([
      ['/usr/sbin/nginx', '-s', 'reload'],
    ]);
  });
});
