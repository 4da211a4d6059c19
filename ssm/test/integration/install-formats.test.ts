import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aScriptFixture, type ScriptFixture } from '../support/fixture.ts';
import {
  expectCombinedOf,
  expectP12Of,
  fingerprint,
  keytool,
  keytoolList,
  openP12,
} from '../support/formats.ts';
import {
  aReloadCommand,
  exportSecretText,
  installParameters,
  runInstallScript,
  scriptEnvironment,
  strayFiles,
} from '../support/install-script.ts';
import { aLeaf, days, type TestLeaf } from '../support/pki.ts';

let fx: ScriptFixture;
/** The mapping's PKCS#12 password, as the worker writes it into every version of its secret. */
const password = `P12${randomUUID().replaceAll('-', '')}`;
let passwordFile: string;

beforeAll(async () => {
  fx = await aScriptFixture();
  passwordFile = join(fx.dir, 'p12-password');
  await writeFile(passwordFile, password, { mode: 0o600 });
  if (keytool === undefined) console.warn('keytool not found: the keytool check is skipped');
});
afterAll(async () => {
  await fx.cleanup();
});

const files = (root: string, name = 'web') => ({
  fullchain: join(root, 'etc/ssl/certs', `${name}-fullchain.pem`),
  chain: join(root, 'etc/ssl/certs', `${name}-chain.pem`),
  key: join(root, 'etc/ssl/private', `${name}-privkey.pem`),
  combined: join(root, 'etc/ssl/private', `${name}-combined.pem`),
  p12: join(root, 'etc/ssl/private', `${name}.p12`),
});

const leafBorn = (daysAgo: number) =>
  aLeaf(fx.ca, { passphrase: fx.passphrase, notBefore: new Date(Date.now() - days(daysAgo)) });

async function install(
  root: string,
  leaf: TestLeaf,
  overrides: Record<string, string>,
  secretText = exportSecretText(leaf, fx.passphrase, password),
) {
  const secret = await fx.secretFor(leaf, secretText);
  return runInstallScript(scriptEnvironment(root, installParameters(leaf, secret, overrides)));
}

const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

describe('Formats: the combined PEM and PKCS#12 files', () => {
  it('writes the combined file and the .p12 (AES-256) in the key directory, installed like the key', async () => {
    const leaf = await leafBorn(1);
    const root = await fx.newRoot();
    const run = await install(root, leaf, { Formats: 'combined,pkcs12' });
    expect(run.code, run.stderr).toBe(0);
    const f = files(root);
    expect(run.summary.files).toEqual([f.fullchain, f.chain, f.key, f.combined, f.p12]);
    expect(await mode(f.combined)).toBe('600');
    expect(await mode(f.p12)).toBe('600');
    expect((await stat(f.p12)).uid).toBe((await stat(f.key)).uid);
    await expectCombinedOf(f.combined, leaf);
    expect(await readFile(f.combined, 'utf8')).toBe(
      (await readFile(f.fullchain, 'utf8')) + (await readFile(f.key, 'utf8')),
    );
    await expectP12Of(f.p12, passwordFile, leaf, 'modern');
    expect(await strayFiles(root)).toEqual([]);
  });

  it.skipIf(keytool === undefined)(
    'keytool lists the .p12 as one PrivateKeyEntry with the full chain',
    async () => {
      const leaf = await leafBorn(1);
      for (const format of ['pkcs12', 'pkcs12-legacy']) {
        const root = await fx.newRoot();
        expect((await install(root, leaf, { Formats: format })).code).toBe(0);
        const stdout = await keytoolList(files(root).p12, passwordFile);
        expect(stdout, format).toMatch(/Your keystore contains 1 entry/);
        expect(stdout, format).toMatch(/Alias name: web\b/);
        expect(stdout, format).toMatch(/Entry type: PrivateKeyEntry/);
        expect(stdout, format).toMatch(/Certificate chain length: 3/);
        expect(stdout, format).toContain(fingerprint(leaf.certificate));
      }
    },
  );

  it('pkcs12-legacy writes 3DES with a SHA-1 MAC; KeyMode and a changed profile apply', async () => {
    const leaf = await leafBorn(1);
    const root = await fx.newRoot();
    const f = files(root);
    const run = await install(root, leaf, { Formats: 'pkcs12-legacy', KeyMode: '640' });
    expect(run.code, run.stderr).toBe(0);
    expect(await mode(f.p12)).toBe('640');
    expect(existsSync(f.combined)).toBe(false);
    await expectP12Of(f.p12, passwordFile, leaf, 'legacy');

    const again = await install(root, leaf, { Formats: 'pkcs12-legacy', KeyMode: '640' });
    expect(again.summary.outcome).toBe('unchanged');
    const modern = await install(root, leaf, { Formats: 'pkcs12', KeyMode: '640' });
    expect(modern.summary.outcome, modern.stderr).toBe('installed');
    await expectP12Of(f.p12, passwordFile, leaf, 'modern');
  });

  it('a rerun is unchanged; a renewal rewrites both; a changed password rewrites the .p12', async () => {
    const root = await fx.newRoot();
    const f = files(root);
    const first = await leafBorn(5);
    expect((await install(root, first, { Formats: 'combined,pkcs12' })).code).toBe(0);
    const p12Before = await readFile(f.p12);

    const rerun = await install(root, first, { Formats: 'combined,pkcs12' });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.summary).toMatchObject({ outcome: 'unchanged', files: [] });
    expect(await readFile(f.p12)).toEqual(p12Before);

    const renewed = await leafBorn(1);
    const run = await install(root, renewed, { Formats: 'combined,pkcs12' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary.outcome).toBe('installed');
    await expectCombinedOf(f.combined, renewed);
    await expectP12Of(f.p12, passwordFile, renewed, 'modern');

    // A .p12 that no longer opens with the secret's password is not "as wanted".
    const other = await install(
      root,
      renewed,
      { Formats: 'combined,pkcs12' },
      exportSecretText(renewed, fx.passphrase, 'another-password'),
    );
    expect(other.summary.outcome, other.stderr).toBe('installed');
    await expect(openP12(f.p12, passwordFile)).rejects.toThrow();
  });

  it('a mapping without formats writes none, and an install removes the files of formats dropped', async () => {
    const root = await fx.newRoot();
    const f = files(root);
    const leaf = await leafBorn(1);
    const plain = await install(root, leaf, {});
    expect(plain.code, plain.stderr).toBe(0);
    expect(existsSync(f.combined) || existsSync(f.p12)).toBe(false);

    expect((await install(root, leaf, { Formats: 'combined,pkcs12' })).summary.outcome).toBe(
      'installed',
    );
    const dropP12 = await install(root, leaf, { Formats: 'combined' });
    expect(dropP12.code, dropP12.stderr).toBe(0);
    expect(dropP12.summary.outcome).toBe('installed');
    expect(dropP12.summary.message).toContain(`removed ${f.p12}`);
    expect(existsSync(f.p12)).toBe(false);
    expect(existsSync(f.combined)).toBe(true);

    const dropAll = await install(root, leaf, { Formats: '' });
    expect(dropAll.summary.outcome).toBe('installed');
    expect(existsSync(f.combined)).toBe(false);
    expect((await install(root, leaf, {})).summary.outcome).toBe('unchanged');
    expect(await strayFiles(root)).toEqual([]);
  });

  it('a failed reload restores the formats’ files byte for byte, a removed one included', async () => {
    const root = await fx.newRoot();
    const f = files(root);
    const older = await leafBorn(5);
    expect((await install(root, older, { Formats: 'combined,pkcs12' })).code).toBe(0);
    const before = await Promise.all([f.combined, f.p12].map((p) => readFile(p)));
    const reload = await aReloadCommand(root, '/usr/sbin/haproxy-reload', 'fail');

    const run = await install(root, await leafBorn(1), {
      Formats: 'combined',
      ReloadCommand: reload,
    });
    expect(run.code, run.stderr).toBe(14);
    expect(run.summary).toMatchObject({ outcome: 'reload-failed-rolled-back', files: [] });
    expect(await Promise.all([f.combined, f.p12].map((p) => readFile(p)))).toEqual(before);
    await expectCombinedOf(f.combined, older);
    expect(await strayFiles(root)).toEqual([]);
  });

  it('refuses bad Formats (exit 10) and a PKCS#12 format whose secret has no password (exit 11)', async () => {
    const leaf = await leafBorn(1);
    for (const Formats of [
      'jks',
      'pkcs12,pkcs12-legacy',
      'combined,combined',
      'pkcs12,combined',
      'combined,',
      'pkcs12\n',
    ]) {
      const root = await fx.newRoot();
      const run = await install(root, leaf, { Formats });
      expect(run.code, Formats).toBe(10);
      expect(run.summary.outcome).toBe('bad-parameters');
      expect(existsSync(files(root).fullchain)).toBe(false);
    }
    const root = await fx.newRoot();
    const run = await install(
      root,
      leaf,
      { Formats: 'pkcs12' },
      exportSecretText(leaf, fx.passphrase),
    );
    expect(run.code).toBe(11);
    expect(run.summary.message).toMatch(/no pkcs12-password line/);
    expect(existsSync(files(root).fullchain)).toBe(false);
    // The PEM files and the combined file need no password: a secret without one serves them.
    const combined = await install(
      root,
      leaf,
      { Formats: 'combined' },
      exportSecretText(leaf, fx.passphrase),
    );
    expect(combined.code, combined.stderr).toBe(0);
  });

  it('Verify checks the formats’ files: present, mode, the combined content, and none left over', async () => {
    const root = await fx.newRoot();
    const f = files(root);
    const leaf = await leafBorn(1);
    expect((await install(root, leaf, { Formats: 'combined,pkcs12' })).code).toBe(0);
    const verify = (Formats: string) => install(root, leaf, { Formats, Mode: 'Verify' });

    expect((await verify('combined,pkcs12')).summary).toMatchObject({
      outcome: 'verified',
      problems: [],
    });
    const fewer = await verify('combined');
    expect(fewer.summary).toMatchObject({ outcome: 'drift', problems: ['format-extra'] });

    await writeFile(f.combined, await readFile(f.fullchain));
    await rm(f.p12);
    const drift = await verify('combined,pkcs12');
    expect(drift.summary.outcome).toBe('drift');
    expect(drift.summary.problems).toEqual(['pkcs12-missing', 'combined-differs']);
    // An install repairs it.
    expect((await install(root, leaf, { Formats: 'combined,pkcs12' })).summary.outcome).toBe(
      'installed',
    );
    expect((await verify('combined,pkcs12')).summary.outcome).toBe('verified');
  });
});
