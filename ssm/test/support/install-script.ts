import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { inject } from 'vitest';
import { repoRoot } from '../../../local/paths.ts';
import { scriptPath } from '../../build-document.ts';
import type { TestLeaf } from './pki.ts';

/** The JSON object the script prints as its last line. */
export interface InstallSummary {
  outcome: string;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  sha256: string | null;
  files: string[];
  reloaded: boolean;
  message: string;
}

export interface InstallRun {
  code: number | null;
  stdout: string;
  stderr: string;
  summary: InstallSummary;
}

/** A passphrase secret in the emulator, under acm-passphrase/ as the document requires. */
export async function aPassphraseSecret(
  secrets: SecretsManagerClient,
  passphrase: string,
): Promise<{ secretId: string; arn: string; versionId: string }> {
  const secretId = `acm-passphrase/${randomUUID()}`;
  const out = await secrets.send(
    new CreateSecretCommand({ Name: secretId, SecretString: passphrase }),
  );
  if (out.ARN === undefined || out.VersionId === undefined) throw new Error('no secret version');
  return { secretId, arn: out.ARN, versionId: out.VersionId };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** SSM_* parameters for installing `leaf`, as the worker would send them. */
export function installParameters(
  leaf: TestLeaf,
  secret: { secretId: string; versionId: string },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    CertName: 'web',
    Certificate: b64(leaf.certificate),
    CertificateChain: b64(leaf.chain),
    EncryptedPrivateKey: b64(leaf.encryptedKey),
    PassphraseSecretId: secret.secretId,
    PassphraseVersionId: secret.versionId,
    ...overrides,
  };
}

/** The environment of a stand-in server: the script's AWS CLI talks to the emulator. */
export function scriptEnvironment(root: string, parameters: Record<string, string>) {
  const env: Record<string, string> = {
    PATH: `${join(repoRoot, '.venv', 'bin')}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
    HOME: root,
    AWS_ENDPOINT_URL: inject('motoEndpoint'),
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ACM_CERT_EXPORT_ROOT: root,
  };
  for (const [name, value] of Object.entries(parameters)) env[`SSM_${name}`] = value;
  return env;
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

/**
 * Runs ssm/install-acm-certificate.sh with bash in its own process group, as the agent would.
 * `onStart` gets the child (e.g. to watch processes or send a signal).
 */
export function runInstallScript(
  env: Record<string, string>,
  onStart?: (child: ChildProcess) => void,
): Promise<InstallRun> {
  const child = spawn('bash', [scriptPath], { env, detached: true, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  onStart?.(child);
  return new Promise((resolveRun, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      let summary: InstallSummary;
      try {
        summary = JSON.parse(lastLine(stdout)) as InstallSummary;
      } catch {
        reject(new Error(`no JSON summary (exit ${code}):\n${stdout}\n${stderr}`));
        return;
      }
      resolveRun({ code, stdout, stderr, summary });
    });
  });
}

/** Files under `dir` (recursively) whose names show they are temporary. */
export async function strayFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.name.startsWith('.acm-install.') || e.name.startsWith('acm-cert-install.'))
    .map((e) => join(e.parentPath, e.name));
}
