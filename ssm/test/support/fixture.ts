import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testClients } from '../../../service/test/support/aws.ts';
import { aPassphraseSecret } from './install-script.ts';
import { aTestCa, type TestCa } from './pki.ts';

/** A scratch directory, a test CA, and a passphrase secret in the emulator. */
export interface ScriptFixture {
  readonly dir: string;
  readonly ca: TestCa;
  readonly passphrase: string;
  readonly secret: { secretId: string; arn: string; versionId: string };
  /** A fresh empty stand-in server root. */
  newRoot(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function aScriptFixture(): Promise<ScriptFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'acm-install-test-'));
  const ca = await aTestCa(join(dir, 'ca'));
  const passphrase = `pass ${randomUUID()} #!`;
  const { secretsManager } = testClients();
  const secret = await aPassphraseSecret(secretsManager, passphrase);
  let roots = 0;
  return {
    dir,
    ca,
    passphrase,
    secret,
    async newRoot() {
      const root = join(dir, `server-${++roots}`);
      await mkdir(root);
      return root;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Every file under `root`, relative, sorted. */
export async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}
