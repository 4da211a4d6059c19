import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aScriptFixture, filesUnder, type ScriptFixture } from '../support/fixture.ts';
import {
  aReloadCommand,
  installParameters,
  runInstallScript,
  scriptEnvironment,
  strayFiles,
} from '../support/install-script.ts';
import { aLeaf, days, type TestLeaf } from '../support/pki.ts';

let fx: ScriptFixture;
beforeAll(async () => {
  fx = await aScriptFixture();
});
afterAll(async () => {
  await fx.cleanup();
});

const paths = (root: string) => [
  join(root, 'etc/ssl/certs/web-fullchain.pem'),
  join(root, 'etc/ssl/certs/web-chain.pem'),
  join(root, 'etc/ssl/private/web-privkey.pem'),
];

/** Bytes, mode, owner and inode of every installed file. */
async function snapshot(root: string) {
  return Promise.all(
    paths(root).map(async (path) => {
      const info = await stat(path);
      return { path, bytes: await readFile(path), mode: info.mode, uid: info.uid, ino: info.ino };
    }),
  );
}

const leafBorn = (daysAgo: number) =>
  aLeaf(fx.ca, { passphrase: fx.passphrase, notBefore: new Date(Date.now() - days(daysAgo)) });

async function install(root: string, leaf: TestLeaf, overrides: Record<string, string> = {}) {
  return runInstallScript(
    scriptEnvironment(root, installParameters(leaf, await fx.secretFor(leaf), overrides)),
  );
}

describe('never downgrade', () => {
  it('refuses an older certificate (exit 13) and leaves the newer one in place', async () => {
    const root = await fx.newRoot();
    const newer = await leafBorn(1);
    const older = await leafBorn(5);
    expect((await install(root, newer)).code).toBe(0);
    const before = await snapshot(root);

    const run = await install(root, older);
    expect(run.code, run.stderr).toBe(13);
    expect(run.summary).toMatchObject({ outcome: 'downgrade-refused', files: [], reloaded: false });
    expect(run.summary.message).toMatch(/later NotBefore/);
    expect(await snapshot(root)).toEqual(before);
    expect(await strayFiles(root)).toEqual([]);
  });

  it('replaces the newer certificate when Force is true', async () => {
    const root = await fx.newRoot();
    const newer = await leafBorn(1);
    const older = await leafBorn(5);
    expect((await install(root, newer)).code).toBe(0);
    const run = await install(root, older, { Force: 'true' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary.outcome).toBe('installed');
    expect(await readFile(paths(root)[0] as string, 'utf8')).toBe(older.certificate + older.chain);
  });

  it('replaces an older certificate with a newer one', async () => {
    const root = await fx.newRoot();
    expect((await install(root, await leafBorn(5))).code).toBe(0);
    const newer = await leafBorn(1);
    const run = await install(root, newer);
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(paths(root)[1] as string, 'utf8')).toBe(newer.chain);
  });
});

describe('a failed reload rolls back', () => {
  it('restores the previous files byte for byte (exit 14)', async () => {
    const root = await fx.newRoot();
    expect((await install(root, await leafBorn(5))).code).toBe(0);
    const before = await snapshot(root);

    const reload = await aReloadCommand(root, '/usr/sbin/nginx -s reload', 'fail');
    const run = await install(root, await leafBorn(1), { ReloadCommand: reload });
    expect(run.code, run.stderr).toBe(14);
    expect(run.summary).toMatchObject({
      outcome: 'reload-failed-rolled-back',
      files: [],
      reloaded: false,
    });
    // Same bytes, mode, owner, and even the same inode: the previous files themselves.
    expect(await snapshot(root)).toEqual(before);
    expect(await strayFiles(root)).toEqual([]);
  });

  it('removes the new files when nothing was installed before', async () => {
    const root = await fx.newRoot();
    const reload = await aReloadCommand(root, '/usr/sbin/nginx -s reload', 'fail');
    const run = await install(root, await leafBorn(1), { ReloadCommand: reload });
    expect(run.code, run.stderr).toBe(14);
    expect(await filesUnder(join(root, 'etc/ssl'))).toEqual([]);
    expect(await strayFiles(root)).toEqual([]);
  });

  it('restores the previous files when stopped by SIGTERM during the reload (exit 15)', async () => {
    const root = await fx.newRoot();
    expect((await install(root, await leafBorn(5))).code).toBe(0);
    const before = await snapshot(root);

    const reload = await aReloadCommand(root, '/usr/sbin/nginx -s reload', 'slow', 30_000);
    const leaf = await leafBorn(1);
    const run = await runInstallScript(
      scriptEnvironment(
        root,
        installParameters(leaf, await fx.secretFor(leaf), { ReloadCommand: reload }),
      ),
      (child) => {
        // Signal the whole process group once the reload runs, as a cancel would.
        const started = Date.now();
        const timer = setInterval(() => {
          void readFile(paths(root)[0] as string, 'utf8').then((fullchain) => {
            const swapped = !before[0]?.bytes.equals(Buffer.from(fullchain));
            if (swapped || Date.now() - started > 20_000) {
              clearInterval(timer);
              setTimeout(() => process.kill(-(child.pid as number), 'SIGTERM'), 200);
            }
          });
        }, 50);
      },
    );
    expect(run.code, run.stderr).toBe(15);
    expect(run.summary.outcome).toBe('install-failed');
    expect(run.summary.message).toMatch(/SIGTERM.*restored/);
    expect(await snapshot(root)).toEqual(before);
    expect(await strayFiles(root)).toEqual([]);
  });
});
