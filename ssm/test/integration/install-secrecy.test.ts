import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../../service/test/support/bed-lane.ts';
import { aScriptFixture, type ScriptFixture } from '../support/fixture.ts';
import { startImdsStandIn } from '../support/imds-stand-in.ts';
import {
  aReloadCommand,
  exportSecretText,
  installParameters,
  runInstallScript,
  scriptEnvironment,
  strayFiles,
} from '../support/install-script.ts';
import { aLeaf } from '../support/pki.ts';
import { startSigV4Front } from '../support/sigv4-front.ts';
import { aToolsPath, someCredentials, systemPython } from '../support/without-cli.ts';

let fx: ScriptFixture;
beforeAll(async () => {
  fx = await aScriptFixture();
});
afterAll(async () => {
  await fx.cleanup();
});

/** Arguments and environment of every process but this one, read from /proc. */
async function processTexts(): Promise<{ pid: string; args: string; env: string }[]> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p) && p !== String(process.pid));
  const read = (path: string) =>
    readFile(path)
      .then((b) => b.toString('latin1'))
      .catch(() => '');
  return Promise.all(
    pids.map(async (pid) => ({
      pid,
      args: await read(`/proc/${pid}/cmdline`),
      env: await read(`/proc/${pid}/environ`),
    })),
  );
}

describe('the passphrase and the PKCS#12 password stay secret', () => {
  it('never appear in any process arguments or environment, nor in any output', async () => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const p12Password = `p12-${fx.passphrase.replaceAll(' ', '-')}`;
    const secrets = [fx.passphrase, p12Password];
    const root = await fx.newRoot();
    const leaks: string[] = [];
    const seen = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const p of await processTexts()) {
          if (secrets.some((x) => p.args.includes(x) || p.env.includes(x))) {
            leaks.push(`${p.pid}: ${p.args.replaceAll('\0', ' ')}`);
          }
          // Seen only in this script's processes (its server root in their environment): other
          // test files run the script at the same time.
          if (!p.env.includes(root)) continue;
          if (p.args.includes('secretsmanager')) seen.add('aws secretsmanager');
          if (p.args.startsWith('openssl')) seen.add(p.args.split('\0').slice(0, 2).join(' '));
          if (p.args.startsWith('stand-in-slow-reload')) seen.add('reload');
        }
      }
    })();
    const reload = await aReloadCommand(root, '/usr/sbin/nginx -s reload', 'slow', 1000);
    const secret = await fx.secretFor(leaf, exportSecretText(leaf, fx.passphrase, p12Password));
    const run = await runInstallScript(
      scriptEnvironment(
        root,
        installParameters(leaf, secret, { ReloadCommand: reload, Formats: 'combined,pkcs12' }),
      ),
    );
    watching = false;
    await watch;

    expect(run.code, run.stderr).toBe(0);
    expect(leaks).toEqual([]);
    // The watch really saw the script's children, the passphrase fetch among them.
    expect(seen).toContain('aws secretsmanager');
    expect(seen).toContain('reload');
    expect(run.summary.files).toHaveLength(5);
    for (const x of secrets) {
      expect(run.stdout).not.toContain(x);
      expect(run.stderr).not.toContain(x);
    }
    expect(await strayFiles(root)).toEqual([]);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('on a server without the AWS CLI: the python3 reader shows no secret nor any credential', async () => {
    // Credentials from instance metadata, so that they are in no environment either: the
    // passphrase, the PKCS#12 password, the key, the secret access key and the session token
    // must appear in no process's arguments or environment while the script runs, nor in its
    // output.
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const p12Password = `p12-${fx.passphrase.replaceAll(' ', '-')}`;
    const credentials = someCredentials(true);
    // Slow metadata keeps the python3 reader running long enough for the watch to see it.
    const imds = await startImdsStandIn({ name: 'web', credentials }, { delayMs: 300 });
    const front = await startSigV4Front({ target: motoEndpoint(), credentials });
    const bin = await aToolsPath(systemPython());
    const keyLine = (pem: string) => pem.split('\n')[2] ?? '';
    const secrets = [
      fx.passphrase,
      p12Password,
      credentials.secretAccessKey,
      credentials.sessionToken ?? '',
      keyLine(leaf.plainKey),
      keyLine(leaf.encryptedKey),
    ];
    expect(secrets.every((x) => x.length >= 20)).toBe(true);
    const root = await fx.newRoot();
    const leaks: string[] = [];
    const seen = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const p of await processTexts()) {
          if (secrets.some((x) => p.args.includes(x) || p.env.includes(x))) {
            leaks.push(`${p.pid}: ${p.args.replaceAll('\0', ' ').slice(0, 200)}`);
          }
          if (!p.env.includes(root)) continue;
          // Run by the path `command -v python3` found.
          if (/^(\S*\/)?python3\0/.test(p.args) && p.args.includes('GetSecretValue')) {
            seen.add('python3');
          }
          if (p.args.startsWith('openssl')) seen.add(p.args.split('\0').slice(0, 2).join(' '));
        }
      }
    })();
    try {
      const secret = await fx.secretFor(leaf, exportSecretText(leaf, fx.passphrase, p12Password));
      const env = scriptEnvironment(
        root,
        installParameters(leaf, secret, { Formats: 'combined,pkcs12' }),
      );
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete env[name];
      const run = await runInstallScript({
        ...env,
        PATH: bin,
        AWS_ENDPOINT_URL: front.endpoint,
        AWS_EC2_METADATA_DISABLED: 'false',
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
      });
      watching = false;
      await watch;
      expect(run.code, run.summary.message).toBe(0);
      expect(front.requests.map((r) => r.signatureValid)).toEqual([true]);
      expect(leaks).toEqual([]);
      // The watch really saw the reader, which held the credentials and read the secret.
      expect(seen).toContain('python3');
      for (const x of secrets) {
        expect(run.stdout).not.toContain(x);
        expect(run.stderr).not.toContain(x);
      }
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      watching = false;
      await watch;
      await Promise.all([imds.stop(), front.stop(), rm(bin, { recursive: true, force: true })]);
    }
  });

  it('is absent from the output when the key does not decrypt with it', async () => {
    const leaf = await aLeaf(fx.ca, { passphrase: 'another passphrase' });
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(root, installParameters(leaf, await fx.secretFor(leaf))),
    );
    expect(run.code).toBe(12);
    expect(run.stdout + run.stderr).not.toContain(fx.passphrase);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });
});
