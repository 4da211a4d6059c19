import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { repoRoot, stateDir } from '../../../local/paths.ts';
import type { ReloadBehaviour } from '../../../local/run-command/managed-nodes.ts';
import {
  recorderScript,
  reloadAllowListPath,
  reloadLogPath,
} from '../../../local/run-command/server-root.ts';
import { SecretValue } from '../../../service/src/domain/secret-value.ts';
import { encodeExportSecret } from '../../../service/src/worker/export-secret.ts';
import { motoEndpoint } from '../../../service/test/support/bed-lane.ts';
import { documentScript, readInstallScript } from '../../build-document.ts';
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
  /** Mode=Verify only: the problem codes found (absent from an install's summary). */
  problems?: string[];
  message: string;
}

export interface InstallRun {
  code: number | null;
  stdout: string;
  stderr: string;
  summary: InstallSummary;
}

/** Where a server reads one export: a secret under acm-passphrase/ and one of its versions. */
export interface ExportSecretRef {
  readonly secretId: string;
  readonly arn: string;
  readonly versionId: string;
}

/**
 * The secret text the worker writes for `leaf` (service/src/worker/export-secret.ts: the format
 * the script parses), with any text in place of it when a test wants a damaged secret; with a
 * `pkcs12-password` line when given one (mappings with a PKCS#12 format).
 */
export function exportSecretText(
  leaf: TestLeaf,
  passphrase: string,
  pkcs12Password?: string,
): string {
  return encodeExportSecret({
    passphrase: new SecretValue(passphrase),
    ...(pkcs12Password === undefined ? {} : { pkcs12Password: new SecretValue(pkcs12Password) }),
    bundle: {
      certificate: leaf.certificate,
      chain: leaf.chain,
      encryptedPrivateKey: new SecretValue(leaf.encryptedKey),
    },
  }).reveal();
}

/** A new secret under acm-passphrase/ holding `text` as its first version. */
export async function anExportSecret(
  secrets: SecretsManagerClient,
  text: string,
): Promise<ExportSecretRef> {
  const secretId = `acm-passphrase/${randomUUID()}`;
  const out = await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: text }));
  if (out.ARN === undefined || out.VersionId === undefined) throw new Error('no secret version');
  return { secretId, arn: out.ARN, versionId: out.VersionId };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * SSM_* parameters for installing `leaf`, as the worker sends them: public certificate and
 * chain, and the secret version holding the key and its passphrase.
 */
export function installParameters(
  leaf: TestLeaf,
  secret: { secretId: string; versionId: string },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    CertName: 'web',
    Certificate: b64(leaf.certificate),
    CertificateChain: b64(leaf.chain),
    SecretId: secret.secretId,
    SecretVersionId: secret.versionId,
    ...overrides,
  };
}

/** The environment of a stand-in server: the script's AWS CLI talks to the emulator. */
export function scriptEnvironment(root: string, parameters: Record<string, string>) {
  const env: Record<string, string> = {
    PATH: `${join(repoRoot, '.venv', 'bin')}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
    HOME: root,
    AWS_ENDPOINT_URL: motoEndpoint(),
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

let carried: Promise<string> | undefined;

/**
 * The script exactly as the document carries it (documentScript of ssm/install-acm-certificate.sh,
 * comments and indentation stripped), written once under .state/ssm/ by its hash: every test
 * that runs the script proves the text the servers get.
 */
export function carriedScriptPath(): Promise<string> {
  carried ??= (async () => {
    const text = documentScript(readInstallScript());
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    const dir = join(stateDir, 'ssm');
    const path = join(dir, `install-acm-certificate.${hash}.sh`);
    await mkdir(dir, { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, text, { mode: 0o644 });
    await rename(temp, path);
    return path;
  })();
  return carried;
}

/**
 * Runs the install script as the document carries it (carriedScriptPath) with bash in its own
 * process group, as the agent would. `onStart` gets the child (e.g. to watch processes or send a
 * signal).
 */
export async function runInstallScript(
  env: Record<string, string>,
  onStart?: (child: ChildProcess) => void,
): Promise<InstallRun> {
  const script = await carriedScriptPath();
  // stdin not a pipe: bash reads ~/.bashrc when its stdin is a socket (Node's pipes are), as if
  // started by sshd, and a machine's .bashrc would then change the script's PATH.
  const child = spawn('bash', [script], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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

/**
 * Allows `line` as a reload command on the stand-in server `root` (a line of its allow-list) and
 * puts a recorder at `<root><argv0>` (the stand-in's: it logs its argv, and fails or runs slowly
 * when asked), so that no reload ever runs on this machine. Returns the line.
 */
export async function aReloadCommand(
  root: string,
  line: string,
  behaviour: ReloadBehaviour = 'record',
  slowMs = 30_000,
): Promise<string> {
  const allowList = join(root, reloadAllowListPath);
  await mkdir(dirname(allowList), { recursive: true });
  await appendFile(allowList, `${line}\n`, { mode: 0o644 });
  const program = line.trim().split(/\s+/)[0] ?? '';
  const path = join(root, program);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, recorderScript(root, program, behaviour, slowMs), { mode: 0o755 });
  return line.replace(/#.*/, '').trim();
}

/** The reload commands the recorders of `root` ran, oldest first, as argv arrays. */
export async function readReloads(root: string): Promise<string[][]> {
  const text = await readFile(join(root, reloadLogPath), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { argv: string[] }).argv);
}
