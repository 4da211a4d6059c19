import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aScriptFixture, type ScriptFixture } from '../support/fixture.ts';
import {
  installParameters,
  runInstallScript,
  scriptEnvironment,
} from '../support/install-script.ts';
import { aLeaf } from '../support/pki.ts';

let fx: ScriptFixture;
beforeAll(async () => {
  fx = await aScriptFixture();
});
afterAll(async () => {
  await fx.cleanup();
});

/**
 * A `restorecon` on the PATH that records each call: its arguments, and the serial in the
 * full chain it was called on (so the test sees it ran after the new files were in place).
 * `fails` makes it exit 1 after recording, as restorecon does on a file it cannot relabel.
 */
async function aRestoreconStub(root: string, fails = false): Promise<{ dir: string; log: string }> {
  const dir = join(root, 'stub-bin');
  const log = join(root, 'restorecon.log');
  await mkdir(dir, { recursive: true });
  const script = [
    '#!/bin/bash',
    `printf '%s\\n' "$*" >>'${log}'`,
    'for f in "$@"; do',
    '  case $f in *-fullchain.pem) openssl x509 -noout -serial -in "$f" >>' +
      `'${log}'` +
      ';; esac',
    'done',
    fails ? 'echo "restorecon: could not set context" >&2; exit 1' : 'exit 0',
    '',
  ].join('\n');
  await writeFile(join(dir, 'restorecon'), script);
  await chmod(join(dir, 'restorecon'), 0o755);
  return { dir, log };
}

async function installWith(root: string, stubDir: string) {
  const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
  const env = scriptEnvironment(root, installParameters(leaf, await fx.secretFor(leaf)));
  env.PATH = `${stubDir}:${env.PATH}`;
  return { leaf, run: await runInstallScript(env) };
}

describe('SELinux file contexts', () => {
  it('restores the contexts of the installed files with restorecon, after they are in place', async () => {
    const root = await fx.newRoot();
    const stub = await aRestoreconStub(root);
    const { leaf, run } = await installWith(root, stub.dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary.outcome).toBe('installed');
    const [args, serial] = (await readFile(stub.log, 'utf8')).trimEnd().split('\n');
    expect(args?.split(' ')).toEqual([
      '-F',
      '--',
      join(root, 'etc/ssl/certs/web-fullchain.pem'),
      join(root, 'etc/ssl/certs/web-chain.pem'),
      join(root, 'etc/ssl/private/web-privkey.pem'),
    ]);
    // The full chain restorecon saw is the new certificate's: it ran after the rename.
    expect(serial?.replace(/^serial=/, '')).toBe(
      new X509Certificate(leaf.certificate).serialNumber,
    );
  });

  it('still installs when restorecon fails, saying so on stderr', async () => {
    const root = await fx.newRoot();
    const stub = await aRestoreconStub(root, true);
    const { run } = await installWith(root, stub.dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary.outcome).toBe('installed');
    expect(run.stderr).toMatch(
      /restorecon failed; the files keep their labels: restorecon: could not set context/,
    );
  });

  it('does not look for restorecon on a re-run that changes nothing', async () => {
    const root = await fx.newRoot();
    const stub = await aRestoreconStub(root);
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const env = scriptEnvironment(root, installParameters(leaf, await fx.secretFor(leaf)));
    env.PATH = `${stub.dir}:${env.PATH}`;
    expect((await runInstallScript(env)).code).toBe(0);
    const calls = (await readFile(stub.log, 'utf8')).trimEnd().split('\n').length;
    const again = await runInstallScript(env);
    expect(again.summary.outcome).toBe('unchanged');
    expect((await readFile(stub.log, 'utf8')).trimEnd().split('\n')).toHaveLength(calls);
  });
});
