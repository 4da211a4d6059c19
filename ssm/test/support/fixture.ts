import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { testClients } from '../../../service/test/support/aws.ts';
import { anExportSecret, type ExportSecretRef, exportSecretText } from './install-script.ts';
import { aTestCa, type TestCa, type TestLeaf } from './pki.ts';

/** A scratch directory, a test CA, and an export secret in the emulator. */
export interface ScriptFixture {
  readonly dir: string;
  readonly ca: TestCa;
  /** The passphrase the fixture's leaves are encrypted with. */
  readonly passphrase: string;
  /** The secret; each leaf gets a version of its own (`secretFor`). */
  readonly secret: ExportSecretRef;
  /** A new version of the secret holding `leaf`'s key and the passphrase (or `text`). */
  secretFor(leaf: TestLeaf, text?: string): Promise<ExportSecretRef>;
  /** A fresh empty stand-in server root. */
  newRoot(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function aScriptFixture(): Promise<ScriptFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'acm-install-test-'));
  const ca = await aTestCa(join(dir, 'ca'));
  const passphrase = `pass ${randomUUID()} #!`;
  const { secretsManager } = testClients();
  const secret = await anExportSecret(secretsManager, 'no export yet');
  let roots = 0;
  return {
    dir,
    ca,
    passphrase,
    secret,
    async secretFor(leaf, text) {
      const out = await secretsManager.send(
        new PutSecretValueCommand({
          SecretId: secret.secretId,
          SecretString: text ?? exportSecretText(leaf, passphrase),
        }),
      );
      if (out.VersionId === undefined) throw new Error('no secret version');
      return { ...secret, versionId: out.VersionId };
    },
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
