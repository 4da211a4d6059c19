import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aScriptFixture, filesUnder, type ScriptFixture } from '../support/fixture.ts';
import {
  aReloadCommand,
  carriedScriptPath,
  exportSecretText,
  installParameters,
  readReloads,
  runInstallScript,
  scriptEnvironment,
  strayFiles,
} from '../support/install-script.ts';
import { aLeaf, aTestCa, days } from '../support/pki.ts';

let fx: ScriptFixture;
beforeAll(async () => {
  fx = await aScriptFixture();
});
afterAll(async () => {
  await fx.cleanup();
});

const installed = (root: string, name = 'web') => ({
  fullchain: join(root, 'etc/ssl/certs', `${name}-fullchain.pem`),
  chain: join(root, 'etc/ssl/certs', `${name}-chain.pem`),
  key: join(root, 'etc/ssl/private', `${name}-privkey.pem`),
});

async function expectNothingLeft(root: string) {
  expect(await strayFiles(root)).toEqual([]);
  expect(await filesUnder(join(root, 'tmp')).catch(() => [])).toEqual([]);
}

describe('install-acm-certificate.sh on a stand-in server root', () => {
  it('installs the certificate, the chain and the decrypted key with their modes and owner', async () => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(root, installParameters(leaf, await fx.secretFor(leaf))),
    );

    expect(run.code, run.stderr).toBe(0);
    const paths = installed(root);
    const cert = new X509Certificate(leaf.certificate);
    expect(run.summary).toEqual({
      outcome: 'installed',
      serial: cert.serialNumber.toUpperCase(),
      notBefore: new Date(cert.validFrom).toISOString().replace('.000Z', 'Z'),
      notAfter: new Date(cert.validTo).toISOString().replace('.000Z', 'Z'),
      sha256: cert.fingerprint256,
      files: [paths.fullchain, paths.chain, paths.key],
      reloaded: false,
      message: expect.stringContaining('installed as web'),
    });
    expect(await readFile(paths.fullchain, 'utf8')).toBe(leaf.certificate + leaf.chain);
    expect(await readFile(paths.chain, 'utf8')).toBe(leaf.chain);
    const key = await readFile(paths.key, 'utf8');
    expect(key).toContain('-----BEGIN PRIVATE KEY-----');
    expect(cert.checkPrivateKey(createPrivateKey(key))).toBe(true);
    for (const [path, mode] of [
      [paths.fullchain, 0o644],
      [paths.chain, 0o644],
      [paths.key, 0o600],
    ] as const) {
      const info = await stat(path);
      expect(info.mode & 0o7777, path).toBe(mode);
      expect([info.uid, info.gid], path).toEqual([0, 0]);
    }
    expect((await stat(join(root, 'etc/ssl/private'))).mode & 0o777).toBe(0o700);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    await expectNothingLeft(root);
  });

  it('honours CertDir, KeyDir, Owner, Group and KeyMode, with an RSA key', async () => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase, keyType: 'rsa' });
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(
        root,
        installParameters(leaf, await fx.secretFor(leaf), {
          CertName: 'api.example.com',
          CertDir: '/etc/nginx/tls',
          KeyDir: '/etc/nginx/tls/private',
          Owner: 'daemon',
          Group: 'daemon',
          KeyMode: '0640',
        }),
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    const key = join(root, 'etc/nginx/tls/private/api.example.com-privkey.pem');
    const info = await stat(key);
    expect(info.mode & 0o7777).toBe(0o640);
    expect(info.uid).toBe(1); // daemon
    expect(await readFile(join(root, 'etc/nginx/tls/api.example.com-chain.pem'), 'utf8')).toBe(
      leaf.chain,
    );
    expect(
      new X509Certificate(leaf.certificate).checkPrivateKey(createPrivateKey(await readFile(key))),
    ).toBe(true);
  });

  it('accepts the secret by ARN as well as by name', async () => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(
        root,
        installParameters(leaf, { ...(await fx.secretFor(leaf)), secretId: fx.secret.arn }),
      ),
    );
    expect(run.code, run.stderr).toBe(0);
  });

  it('leaves an identical installation unchanged and does not reload', async () => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const root = await fx.newRoot();
    const params = installParameters(leaf, await fx.secretFor(leaf));
    expect((await runInstallScript(scriptEnvironment(root, params))).code).toBe(0);
    const reload = await aReloadCommand(root, '/usr/sbin/nginx -s reload');
    const again = await runInstallScript(
      scriptEnvironment(root, { ...params, ReloadCommand: reload }),
    );
    expect(again.code).toBe(0);
    expect(again.summary).toMatchObject({ outcome: 'unchanged', files: [], reloaded: false });
    expect(await readReloads(root)).toEqual([]);
  });

  it('runs an allow-listed reload command as plain words, from under the server root', async () => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const root = await fx.newRoot();
    const reload = await aReloadCommand(root, '/usr/sbin/nginx -s reload');
    const run = await runInstallScript(
      scriptEnvironment(
        root,
        installParameters(leaf, await fx.secretFor(leaf), { ReloadCommand: reload }),
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({ outcome: 'installed', reloaded: true });
    expect(await readReloads(root)).toEqual([['/usr/sbin/nginx', '-s', 'reload']]);
  });
});

describe('reload commands this server does not allow (exit 18, nothing changed)', () => {
  const cases: [string, (root: string) => Promise<string>, RegExp][] = [
    [
      'a server without an allow-list',
      async () => '/usr/sbin/nginx -s reload',
      /has no allow-list \/etc\/acm-cert-export\/reload-commands/,
    ],
    [
      'a command that is not a line of the allow-list',
      async (root) => {
        await aReloadCommand(root, '/usr/sbin/nginx -s reload');
        return '/usr/sbin/nginx -s stop';
      },
      /not a line of \/etc\/acm-cert-export\/reload-commands/,
    ],
    [
      'an allow-list others may write to',
      async (root) => {
        const reload = await aReloadCommand(root, '/usr/sbin/nginx -s reload');
        await chmod(join(root, 'etc/acm-cert-export/reload-commands'), 0o666);
        return reload;
      },
      /owned by root and writable by root only/,
    ],
    [
      'an allowed command whose executable is missing',
      async (root) => {
        await mkdir(join(root, 'etc/acm-cert-export'), { recursive: true });
        await writeFile(join(root, 'etc/acm-cert-export/reload-commands'), '/usr/bin/nope\n', {
          mode: 0o644,
        });
        return '/usr/bin/nope';
      },
      /\/usr\/bin\/nope is not an executable file/,
    ],
  ];

  it.each(cases)('refuses %s', async (_, arrange, message) => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const root = await fx.newRoot();
    const reload = await arrange(root);
    const run = await runInstallScript(
      scriptEnvironment(
        root,
        installParameters(leaf, await fx.secretFor(leaf), { ReloadCommand: reload }),
      ),
    );
    expect(run.code, run.stderr).toBe(18);
    expect(run.summary).toMatchObject({ outcome: 'reload-not-allowed', files: [] });
    expect(run.summary.message).toMatch(message);
    expect(await filesUnder(join(root, 'etc/ssl')).catch(() => [])).toEqual([]);
    expect(await readReloads(root)).toEqual([]);
  });

  it('compares words, so extra spaces in the request or the list do not matter', async () => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const root = await fx.newRoot();
    await aReloadCommand(root, '/usr/sbin/nginx   -s reload  # the web server');
    const run = await runInstallScript(
      scriptEnvironment(
        root,
        installParameters(leaf, await fx.secretFor(leaf), {
          ReloadCommand: '/usr/sbin/nginx -s  reload',
        }),
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await readReloads(root)).toEqual([['/usr/sbin/nginx', '-s', 'reload']]);
  });
});

describe('an SSM Agent too old for ENV_VAR parameters (exit 17)', () => {
  it('says so, naming the version it needs, instead of "bad parameters"', async () => {
    const root = await fx.newRoot();
    const env = scriptEnvironment(root, {});
    const run = await runInstallScript(env);
    expect(run.code, run.stderr).toBe(17);
    expect(run.summary.outcome).toBe('agent-too-old');
    expect(run.summary.message).toMatch(/older than 3\.3\.2746\.0/);
    expect(await filesUnder(root)).toEqual([]);
  });
});

describe('validation failures leave the server unchanged (exit 12)', () => {
  const cases: [string, () => Promise<Record<string, string>>, RegExp][] = [
    [
      'a wrong passphrase',
      async () => {
        const leaf = await aLeaf(fx.ca, { passphrase: 'not the stored one' });
        return installParameters(leaf, await fx.secretFor(leaf));
      },
      /cannot be decrypted/,
    ],
    [
      'a key that does not match the certificate',
      async () => {
        const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
        const other = await aLeaf(fx.ca, { passphrase: fx.passphrase });
        return installParameters(
          leaf,
          await fx.secretFor({ ...leaf, encryptedKey: other.encryptedKey }),
        );
      },
      /does not match the certificate/,
    ],
    [
      'an expired certificate',
      async () => {
        const now = Date.now();
        const leaf = await aLeaf(fx.ca, {
          passphrase: fx.passphrase,
          notBefore: new Date(now - days(100)),
          notAfter: new Date(now - days(10)),
        });
        return installParameters(leaf, await fx.secretFor(leaf));
      },
      /has expired/,
    ],
    [
      'a certificate that is not valid yet',
      async () => {
        const now = Date.now();
        const leaf = await aLeaf(fx.ca, {
          passphrase: fx.passphrase,
          notBefore: new Date(now + days(2)),
          notAfter: new Date(now + days(90)),
        });
        return installParameters(leaf, await fx.secretFor(leaf));
      },
      /not valid yet/,
    ],
    [
      'a chain of another CA',
      async () => {
        const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
        const otherCa = await aTestCa(join(fx.dir, 'other-ca'), 'Other');
        return installParameters({ ...leaf, chain: otherCa.chain }, await fx.secretFor(leaf));
      },
      /chain does not verify/,
    ],
    [
      'a chain holding only the certificate itself',
      async () => {
        const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
        return installParameters({ ...leaf, chain: leaf.certificate }, await fx.secretFor(leaf));
      },
      /chain contains the certificate itself/,
    ],
  ];

  it.each(cases)('refuses %s', async (_, parameters, message) => {
    const root = await fx.newRoot();
    const run = await runInstallScript(scriptEnvironment(root, await parameters()));
    expect(run.code, run.stderr).toBe(12);
    expect(run.summary.outcome).toBe('validation-failed');
    expect(run.summary.message).toMatch(message);
    expect(run.summary.files).toEqual([]);
    expect(await filesUnder(root)).toEqual([]);
  });
});

describe('an unreadable secret (exit 11)', () => {
  it.each([
    ['an unknown secret', { secretId: 'acm-passphrase/does-not-exist' }],
    ['an unknown version', { versionId: '00000000-0000-4000-8000-000000000000' }],
  ])('refuses %s', async (_, override) => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(root, installParameters(leaf, { ...fx.secret, ...override })),
    );
    expect(run.code, run.stderr).toBe(11);
    expect(run.summary.outcome).toBe('secret-unreadable');
    expect(run.summary.message).toMatch(/ResourceNotFoundException/);
    expect(run.summary.serial).toBe(
      new X509Certificate(leaf.certificate).serialNumber.toUpperCase(),
    );
    expect(await filesUnder(root)).toEqual([]);
  });

  it.each([
    ['empty-ish', '\n', /not an acm-cert-export secret/],
    ['a bare passphrase (the old format)', 'just-a-passphrase', /not an acm-cert-export secret/],
    [
      'without a passphrase line',
      'acm-cert-export-secret v1\nno passphrase here\n',
      /holds no passphrase/,
    ],
    [
      'without the key',
      'acm-cert-export-secret v1\npassphrase: abc\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      /holds no PEM ENCRYPTED PRIVATE KEY/,
    ],
  ])('refuses a secret version that is %s', async (_, text, message) => {
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(root, installParameters(leaf, await fx.secretFor(leaf, text))),
    );
    expect(run.code, run.stderr).toBe(11);
    expect(run.summary.message).toMatch(message);
    expect(await filesUnder(root)).toEqual([]);
  });
});

describe('an unprivileged run (a local stand-in server not run as root)', () => {
  it.runIf(process.getuid?.() === 0)(
    'installs with the current user as owner and says so',
    async () => {
      // As nobody, with a stub `aws` printing the secret (the project's .venv may not be
      // readable by nobody); the secret fetch itself is covered by the other tests.
      const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
      const bin = join(fx.dir, 'nobody-bin');
      await mkdir(bin, { mode: 0o755 });
      await writeFile(join(bin, 'secret.txt'), exportSecretText(leaf, fx.passphrase), {
        mode: 0o644,
      });
      await writeFile(join(bin, 'aws'), `#!/bin/sh\ncat '${join(bin, 'secret.txt')}'\n`, {
        mode: 0o755,
      });
      await copyFile(await carriedScriptPath(), join(bin, 'install.sh'));
      await chmod(join(bin, 'install.sh'), 0o755);
      await chmod(fx.dir, 0o755);
      const root = await fx.newRoot();
      await chown(root, 65534, 65534);
      const env = {
        ...scriptEnvironment(root, installParameters(leaf, fx.secret)),
        PATH: `${bin}:/usr/bin:/bin`,
      };
      const run = await promisify(execFile)(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', join(bin, 'install.sh')],
        { env },
      );
      expect(JSON.parse(run.stdout.trim())).toMatchObject({ outcome: 'installed' });
      expect(run.stderr).toMatch(/not running as root/);
      const key = await stat(installed(root).key);
      expect([key.uid, key.mode & 0o777]).toEqual([65534, 0o600]);
    },
  );
});
