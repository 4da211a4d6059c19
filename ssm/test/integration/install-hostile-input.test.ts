import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDocumentObject } from '../../build-document.ts';
import { aScriptFixture, filesUnder, type ScriptFixture } from '../support/fixture.ts';
import {
  exportSecretText,
  installParameters,
  runInstallScript,
  scriptEnvironment,
} from '../support/install-script.ts';
import { aLeaf, type TestLeaf } from '../support/pki.ts';

let fx: ScriptFixture;
let leaf: TestLeaf;
beforeAll(async () => {
  fx = await aScriptFixture();
  leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
});
afterAll(async () => {
  await fx.cleanup();
});

const patterns = (
  buildDocumentObject() as { parameters: Record<string, { allowedPattern: string }> }
).parameters;
const documentAllows = (name: string, value: string) =>
  new RegExp(patterns[name]?.allowedPattern ?? '(?!)').test(value);

const canary = '/tmp/acm-install-hostile-canary';

// Values an attacker or a bug could send; the document's patterns reject them, and the script
// rejects them again when run directly (exit 10) before touching anything.
const hostile: [string, string][] = [
  ['CertName', '../../etc/passwd'],
  ['CertName', 'a/b'],
  ['CertName', '.'],
  ['CertName', '..'],
  ['CertName', 'a b'],
  ['CertName', `$(touch ${canary})`],
  ['CertName', `\`touch ${canary}\``],
  ['CertName', 'web\nx'],
  ['CertName', 'web\n'],
  ['CertName', 'a"b'],
  ['CertName', "a'b"],
  ['Certificate', `$(touch ${canary})`],
  ['SecretId', 'prod/db-password'],
  ['SecretId', `acm-passphrase/$(touch ${canary})`],
  ['SecretVersionId', 'x; touch /tmp/x'],
  ['CertDir', 'relative/dir'],
  ['CertDir', '/etc/ssl certs'],
  ['CertDir', `/etc/$(touch ${canary})`],
  ['KeyDir', '/etc/ssl/private\n'],
  ['Owner', 'root;id'],
  ['Group', '`id`'],
  ['KeyMode', '644'],
  ['KeyMode', '666'],
  ['KeyMode', '0700'],
  ['KeyMode', '620'],
  ['ReloadCommand', `systemctl reload nginx; touch ${canary}`],
  ['ReloadCommand', `nginx $(touch ${canary})`],
  ['ReloadCommand', `nginx \`touch ${canary}\``],
  ['ReloadCommand', `nginx | touch ${canary}`],
  ['ReloadCommand', `nginx > ${canary}`],
  ['ReloadCommand', `nginx\ntouch ${canary}`],
  ['ReloadCommand', `sh -c 'touch ${canary}'`],
  ['ReloadCommand', 'systemctl reload nginx'],
  ['Force', 'yes'],
  ['Mode', `Verify; touch ${canary}`],
  ['Mode', 'Verify\n'],
  ['Mode', 'verify'],
];

// Values the patterns let through (dots and slashes are fine in paths) that the script still
// refuses: path traversal.
const traversal: [string, string][] = [
  ['CertDir', '/etc/ssl/../../root'],
  ['KeyDir', '/etc/ssl/private/..'],
  ['KeyDir', '/etc/./ssl'],
  ['CertName', 'a..b'],
];

describe('hostile parameter values', () => {
  it.each(hostile)('%s = %j is rejected by the pattern and by the script', async (name, value) => {
    expect(documentAllows(name, value)).toBe(name === 'KeyMode');
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(root, installParameters(leaf, fx.secret, { [name]: value })),
    );
    expect(run.code, run.stderr).toBe(10);
    expect(run.summary.outcome).toBe('bad-parameters');
    expect(run.summary.message).toMatch(name === 'KeyMode' ? /KeyMode/ : new RegExp(name));
    expect(await readdir(root)).toEqual([]);
    await expect(readdir(canary)).rejects.toThrow(/ENOENT/);
  });

  it.each(traversal)(
    '%s = %j passes the pattern but the script refuses it',
    async (name, value) => {
      expect(documentAllows(name, value)).toBe(true);
      const root = await fx.newRoot();
      const run = await runInstallScript(
        scriptEnvironment(root, installParameters(leaf, fx.secret, { [name]: value })),
      );
      expect(run.code, run.stderr).toBe(10);
      expect(await readdir(root)).toEqual([]);
    },
  );

  it('refuses a secret holding a plaintext key in place of the encrypted one', async () => {
    const root = await fx.newRoot();
    const run = await runInstallScript(
      scriptEnvironment(
        root,
        installParameters(
          leaf,
          await fx.secretFor(
            leaf,
            exportSecretText({ ...leaf, encryptedKey: leaf.plainKey }, fx.passphrase),
          ),
        ),
      ),
    );
    expect(run.code).toBe(11);
    expect(run.summary.message).toMatch(/ENCRYPTED PRIVATE KEY/);
    expect(await filesUnder(root)).toEqual([]);
  });

  it('refuses missing required parameters', async () => {
    const root = await fx.newRoot();
    const { CertName: _, ...rest } = installParameters(leaf, fx.secret);
    const run = await runInstallScript(scriptEnvironment(root, rest));
    expect(run.code).toBe(10);
    expect(run.summary.message).toMatch(/CertName is missing/);
  });
});
