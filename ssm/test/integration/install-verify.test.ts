import { randomUUID, X509Certificate } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aScriptFixture, filesUnder, type ScriptFixture } from '../support/fixture.ts';
import {
  aReloadCommand,
  installParameters,
  readReloads,
  runInstallScript,
  scriptEnvironment,
  strayFiles,
} from '../support/install-script.ts';
import { aLeaf, days, type TestLeaf } from '../support/pki.ts';

let fx: ScriptFixture;
/** A directory whose `aws` records that it ran and fails: Verify must never call it. */
let stubBin: string;
let awsCalls: string;
beforeAll(async () => {
  fx = await aScriptFixture();
  stubBin = join(fx.dir, 'stub-bin');
  awsCalls = join(fx.dir, 'aws-calls');
  await mkdir(stubBin);
  await writeFile(join(stubBin, 'aws'), `#!/bin/sh\necho "$@" >>'${awsCalls}'\nexit 1\n`, {
    mode: 0o755,
  });
});
afterAll(async () => {
  await fx.cleanup();
});

const paths = (root: string) => ({
  fullchain: join(root, 'etc/ssl/certs/web-fullchain.pem'),
  chain: join(root, 'etc/ssl/certs/web-chain.pem'),
  key: join(root, 'etc/ssl/private/web-privkey.pem'),
});

const reloadLine = '/usr/sbin/nginx -s reload';

const leafBorn = (daysAgo: number) =>
  aLeaf(fx.ca, { passphrase: fx.passphrase, notBefore: new Date(Date.now() - days(daysAgo)) });

async function install(root: string, leaf: TestLeaf, overrides: Record<string, string> = {}) {
  return runInstallScript(
    scriptEnvironment(root, installParameters(leaf, await fx.secretFor(leaf), overrides)),
  );
}

/**
 * Mode=Verify as a caller sends it (the install's parameters plus Mode), but with a secret that
 * does not exist, no AWS credentials, and an `aws` on the PATH that fails and records the call.
 */
async function verify(root: string, leaf: TestLeaf, overrides: Record<string, string> = {}) {
  const secret = { secretId: `acm-passphrase/no-such-${randomUUID()}`, versionId: randomUUID() };
  const {
    AWS_ACCESS_KEY_ID: _id,
    AWS_SECRET_ACCESS_KEY: _key,
    ...env
  } = scriptEnvironment(root, installParameters(leaf, secret, { Mode: 'Verify', ...overrides }));
  const run = await runInstallScript({ ...env, PATH: `${stubBin}:${env.PATH}` });
  await expect(readFile(awsCalls, 'utf8')).rejects.toThrow(/ENOENT/);
  return run;
}

/** Every entry under `root`: files with bytes, mode, owner and inode; directories with mode. */
async function state(root: string) {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const out: Record<string, unknown> = {};
  for (const e of entries) {
    const path = join(e.parentPath, e.name);
    const info = await lstat(path);
    out[path] = e.isDirectory()
      ? { mode: info.mode }
      : {
          bytes: e.isFile() ? await readFile(path) : null,
          mode: info.mode,
          uid: info.uid,
          gid: info.gid,
          ino: info.ino,
          mtimeMs: info.mtimeMs,
        };
  }
  return out;
}

function facts(leaf: TestLeaf) {
  const cert = new X509Certificate(leaf.certificate);
  return {
    serial: cert.serialNumber.toUpperCase(),
    notBefore: new Date(cert.validFrom).toISOString().replace('.000Z', 'Z'),
    notAfter: new Date(cert.validTo).toISOString().replace('.000Z', 'Z'),
    sha256: cert.fingerprint256,
  };
}

describe('Mode=Verify', () => {
  it('says verified after an install, describing the installed certificate, exit 0', async () => {
    const root = await fx.newRoot();
    const leaf = await leafBorn(1);
    expect((await install(root, leaf)).code).toBe(0);

    const run = await verify(root, leaf);
    expect(run.code, run.stderr).toBe(0);
    const p = paths(root);
    expect(run.summary).toEqual({
      outcome: 'verified',
      ...facts(leaf),
      files: [p.fullchain, p.chain, p.key],
      reloaded: false,
      problems: [],
      message: expect.stringContaining(`${facts(leaf).serial} is installed as web as expected`),
    });
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stdout).toMatch(/"reloaded":false,"problems":\[\],"message":/);
  });

  it('changes nothing, on a server as wanted or drifted, and runs no reload', async () => {
    const root = await fx.newRoot();
    const leaf = await leafBorn(1);
    const reload = await aReloadCommand(root, reloadLine);
    expect((await install(root, leaf, { ReloadCommand: reload })).code).toBe(0);
    expect(await readReloads(root)).toHaveLength(1);

    const before = await state(root);
    const run = await verify(root, leaf, { ReloadCommand: reload, Force: 'true' });
    expect(run.summary.outcome).toBe('verified');
    expect(await state(root)).toEqual(before);

    await chmod(paths(root).key, 0o644);
    await rm(paths(root).chain);
    const drifted = await state(root);
    const again = await verify(root, await leafBorn(0), { ReloadCommand: reload });
    expect(again.summary.outcome).toBe('drift');
    expect(await state(root)).toEqual(drifted);
    expect(await readReloads(root)).toHaveLength(1);
    expect(await strayFiles(root)).toEqual([]);
  });

  it('creates nothing on a server where nothing is installed: every file missing', async () => {
    const root = await fx.newRoot();
    const run = await verify(root, await leafBorn(1));
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({
      outcome: 'drift',
      serial: null,
      notBefore: null,
      notAfter: null,
      sha256: null,
      reloaded: false,
      problems: ['cert-missing', 'chain-missing', 'key-missing'],
    });
    // Only the (empty) parent of the private temporary directory a stand-in root gets.
    expect(await readdir(root, { recursive: true })).toEqual(['tmp']);
  });

  it('refuses bad parameters with exit 10, as an install does', async () => {
    const root = await fx.newRoot();
    const leaf = await leafBorn(1);
    const bad: [Record<string, string>, RegExp][] = [
      [{ KeyMode: '644' }, /KeyMode/],
      [{ Mode: 'verify' }, /Mode/],
      [{ Mode: 'Verify\n' }, /Mode/],
      [{ CertName: '../x' }, /CertName/],
      [{ Certificate: Buffer.from(leaf.chain).toString('base64') }, /exactly one PEM/],
    ];
    for (const [overrides, message] of bad) {
      const run = await verify(root, leaf, overrides);
      expect(run.code, JSON.stringify(overrides)).toBe(10);
      expect(run.summary.outcome).toBe('bad-parameters');
      expect(run.summary.message).toMatch(message);
    }
    expect(await filesUnder(root)).toEqual([]);
  });
});

/**
 * How a server drifts, and the problem codes Verify reports for it (the owner rows need root, as
 * the other tests of the installed files' owner do).
 */
const drifts: [string, (root: string, leaf: TestLeaf) => Promise<void>, string[]][] = [
  ['the key deleted', (root) => rm(paths(root).key), ['key-missing']],
  ['the chain file deleted', (root) => rm(paths(root).chain), ['chain-missing']],
  ['the key mode changed to 644', (root) => chmod(paths(root).key, 0o644), ['key-mode']],
  [
    'the fullchain mode changed to 600',
    (root) => chmod(paths(root).fullchain, 0o600),
    ['cert-mode'],
  ],
  ['the chain mode changed to 664', (root) => chmod(paths(root).chain, 0o664), ['cert-mode']],
  ['the key given to another owner', (root) => chown(paths(root).key, 1, 0), ['owner']],
  ['the chain given to another group', (root) => chown(paths(root).chain, 0, 1), ['owner']],
  [
    'a key that does not match the certificate',
    async (root) => writeFile(paths(root).key, (await leafBorn(1)).plainKey),
    ['key-mismatch'],
  ],
  [
    'another chain in the chain file',
    (root) => writeFile(paths(root).chain, fx.ca.certificate),
    ['chain-differs'],
  ],
  [
    'the fullchain holding the certificate without its chain',
    (root, leaf) => writeFile(paths(root).fullchain, leaf.certificate),
    ['cert-differs'],
  ],
  [
    'a fullchain that is not a certificate',
    (root) => writeFile(paths(root).fullchain, 'not a certificate\n'),
    ['unreadable'],
  ],
  [
    'a key file that is not a key',
    (root) => writeFile(paths(root).key, 'not a key\n'),
    ['unreadable'],
  ],
  [
    'key and chain deleted, the certificate mode changed',
    async (root) => {
      await rm(paths(root).key);
      await rm(paths(root).chain);
      await chmod(paths(root).fullchain, 0o666);
    },
    ['cert-mode', 'chain-missing', 'key-missing'],
  ],
];

describe('drift, and an install of the same certificate repairs it', () => {
  it.each(drifts)('%s', async (_, damage, problems) => {
    const root = await fx.newRoot();
    const leaf = await leafBorn(1);
    const reload = await aReloadCommand(root, reloadLine);
    const params = installParameters(leaf, await fx.secretFor(leaf), { ReloadCommand: reload });
    expect((await runInstallScript(scriptEnvironment(root, params))).code).toBe(0);
    expect((await verify(root, leaf)).summary.outcome).toBe('verified');
    await damage(root, leaf);

    const drift = await verify(root, leaf, { ReloadCommand: reload });
    expect(drift.code, drift.stderr).toBe(0);
    expect(drift.summary).toMatchObject({ outcome: 'drift', reloaded: false, problems });
    expect(drift.summary.message).toMatch(/an Install of [0-9A-F]+ repairs it$/);
    // The installed certificate's facts, when there is one to read.
    const readable = (await readFile(paths(root).fullchain, 'utf8')).includes('CERTIFICATE');
    expect(drift.summary).toMatchObject(
      readable ? facts(leaf) : { serial: null, notBefore: null, notAfter: null, sha256: null },
    );

    // The same command again (same secret version): the files are rewritten and reloaded.
    const repair = await runInstallScript(scriptEnvironment(root, params));
    expect(repair.code, repair.stderr).toBe(0);
    const p = paths(root);
    expect(repair.summary).toMatchObject({
      outcome: 'installed',
      files: [p.fullchain, p.chain, p.key],
      reloaded: true,
    });
    expect(await readReloads(root)).toHaveLength(2);
    expect(await readFile(p.fullchain, 'utf8')).toBe(leaf.certificate + leaf.chain);
    expect(await readFile(p.chain, 'utf8')).toBe(leaf.chain);
    expect(await readFile(p.key, 'utf8')).toBe(leaf.plainKey);

    const after = await verify(root, leaf);
    expect(after.summary).toMatchObject({ outcome: 'verified', problems: [] });
    const unchanged = await runInstallScript(scriptEnvironment(root, params));
    expect(unchanged.summary.outcome).toBe('unchanged');
    expect(await readReloads(root)).toHaveLength(2);
    expect(await strayFiles(root)).toEqual([]);
  });
});

describe('another certificate installed than expected', () => {
  it('an older one: serial-older, and installing the expected one fixes it', async () => {
    const root = await fx.newRoot();
    const a = await leafBorn(5);
    const b = await leafBorn(1);
    expect((await install(root, a)).code).toBe(0);

    const run = await verify(root, b);
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({
      outcome: 'drift',
      ...facts(a),
      problems: ['serial-older'],
    });
    expect(run.summary.message).toContain(`${facts(a).serial} (NotBefore ${facts(a).notBefore})`);
    expect(run.summary.message).toContain(`older than ${facts(b).serial}`);

    expect((await install(root, b)).summary.outcome).toBe('installed');
    expect((await verify(root, b)).summary).toMatchObject({ outcome: 'verified', ...facts(b) });
  });

  it('a newer one: serial-newer, and an install of the expected one is still refused', async () => {
    const root = await fx.newRoot();
    const older = await leafBorn(5);
    const newer = await leafBorn(1);
    expect((await install(root, newer)).code).toBe(0);

    const run = await verify(root, older);
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({
      outcome: 'drift',
      ...facts(newer),
      problems: ['serial-newer'],
    });
    expect(run.summary.message).toMatch(/newer than .*needs Force=true$/);

    const refused = await install(root, older);
    expect(refused.code).toBe(13);
    expect((await verify(root, older)).summary.problems).toEqual(['serial-newer']);
    expect((await verify(root, newer)).summary.outcome).toBe('verified');
  });

  it('one with the same NotBefore: serial-differs', async () => {
    const root = await fx.newRoot();
    const notBefore = new Date(Date.now() - days(2));
    const a = await aLeaf(fx.ca, { passphrase: fx.passphrase, notBefore });
    const b = await aLeaf(fx.ca, { passphrase: fx.passphrase, notBefore });
    expect((await install(root, a)).code).toBe(0);
    const run = await verify(root, b);
    // The installed key belongs to the installed certificate: no key-mismatch.
    expect(run.summary).toMatchObject({ outcome: 'drift', problems: ['serial-differs'] });
  });
});

describe('Mode=Install, said or not', () => {
  it('is the default: no problems field, and an explicit Install behaves the same', async () => {
    const root = await fx.newRoot();
    const leaf = await leafBorn(1);
    const first = await install(root, leaf);
    expect(first.summary.outcome).toBe('installed');
    expect(first.summary).not.toHaveProperty('problems');
    const second = await install(root, leaf, { Mode: 'Install' });
    expect(second.summary).toMatchObject({ outcome: 'unchanged', files: [] });
    expect(second.summary).not.toHaveProperty('problems');
  });
});
