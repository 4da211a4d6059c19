/**
 * A stand-in server's files, prepared before a command runs there, so that the install script
 * never runs a reload command on this machine. The script runs a reload command only when its
 * exact command line is a line of the server's allow-list `/etc/acm-cert-export/reload-commands`,
 * and under `ACM_CERT_EXPORT_ROOT` it runs `<root><argv0>`. The stand-in writes that allow-list
 * and, for each allowed command, a recorder at `<root><argv0>` that appends one JSON line to
 * `<root>/var/log/acm-cert-export/reloads.log` and exits 0 (tag `standin:reload=fail`: exits 1;
 * `slow`: runs `slowReloadMs` first). Files a test placed itself are never overwritten.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ReloadBehaviour } from './managed-nodes.ts';

/** Where a stand-in server's files live: every path the script writes is under it. */
export function serverRoot(stateDir: string, instanceId: string): string {
  return join(stateDir, 'servers', instanceId);
}

/** The allow-list path on a server (under its root on a stand-in server). */
export const reloadAllowListPath = '/etc/acm-cert-export/reload-commands';
/** Where the recorders log, under the server's root. */
export const reloadLogPath = '/var/log/acm-cert-export/reloads.log';

/** Allowed on every stand-in server unless the server is started with other commands. */
export const defaultReloadCommands: readonly string[] = [
  '/usr/sbin/nginx -s reload',
  '/usr/bin/systemctl reload nginx',
];

/** The first line after the shebang of every recorder: how the stand-in knows its own files. */
const recorderMarker = '# acm-cert-export Run Command stand-in: reload recorder';

/** The characters the document's ReloadCommand parameter allows. */
const commandCharacters = /^[A-Za-z0-9 ._/:@=,+-]+$/;

export interface ReloadCommand {
  /** The command line as written in the allow-list. */
  readonly line: string;
  readonly argv: readonly string[];
}

/**
 * Checks reload commands as the install script's contract needs them: words separated by
 * single spaces, the first an absolute path without `.` or `..` segments. Throws a clear error.
 */
export function parseReloadCommands(commands: readonly string[]): ReloadCommand[] {
  return commands.map((line) => {
    const problem = (why: string) =>
      new Error(`reload command ${JSON.stringify(line)} cannot be allowed: ${why}`);
    if (!commandCharacters.test(line)) {
      throw problem('only letters, digits, spaces and ._/:@=,+- are allowed');
    }
    const argv = line.split(' ');
    if (argv.some((word) => word === '')) {
      throw problem('words must be separated by single spaces, with none before or after');
    }
    const program = argv[0] as string;
    const segments = program.split('/').slice(1);
    if (!program.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw problem('the first word must be an absolute path to a file, without . or ..');
    }
    return { line, argv };
  });
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The recorder's body: a shell script of its own, so that shellcheck reads it. */
const recorderBody = readFileSync(new URL('./reload-recorder.sh', import.meta.url), 'utf8')
  .split('\n')
  .slice(1)
  .join('\n');

/** The recorder standing in for `program` on one server: its settings, then the body. */
export function recorderScript(
  root: string,
  program: string,
  reload: ReloadBehaviour,
  slowReloadMs: number,
): string {
  const settings = {
    log: join(root, reloadLogPath),
    program,
    reload,
    slow_seconds: String(slowReloadMs / 1000),
    root,
  };
  return [
    '#!/usr/bin/env bash',
    recorderMarker,
    ...Object.entries(settings).map(([name, value]) => `${name}=${shellQuote(value)}`),
    recorderBody,
  ].join('\n');
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes a file atomically (two commands may prepare the same server at once). */
async function replace(path: string, content: string | Buffer, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, content, { mode });
  await rename(temporary, path);
}

export interface ServerPreparation {
  readonly reloadCommands: readonly ReloadCommand[];
  readonly reload: ReloadBehaviour;
  readonly slowReloadMs: number;
}

/**
 * Writes the allow-list unless the server has one, and a recorder for every allowed command
 * unless a file the stand-in did not write is already there.
 */
export async function prepareServerRoot(root: string, preparation: ServerPreparation) {
  const allowList = join(root, reloadAllowListPath);
  await mkdir(dirname(allowList), { recursive: true });
  const content = [
    '# Reload commands the acm-cert-export install script may run on this server, one per line.',
    '# Written by the Run Command stand-in; on a real server its administrator writes it.',
    ...preparation.reloadCommands.map((command) => command.line),
    '',
  ].join('\n');
  try {
    await writeFile(allowList, content, { flag: 'wx', mode: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const programs = new Set(preparation.reloadCommands.map((command) => command.argv[0] as string));
  for (const program of programs) {
    const path = join(root, program);
    const script = recorderScript(root, program, preparation.reload, preparation.slowReloadMs);
    const existing = await readIfPresent(path);
    if (existing === script) continue;
    if (existing !== undefined && !existing.split('\n', 2).includes(recorderMarker)) continue;
    await replace(path, script, 0o755);
  }
}

/** One call of a reload command on a stand-in server, as its recorder logged it. */
export interface ReloadRecord {
  readonly time: string;
  readonly argv: readonly string[];
  readonly exitCode: number;
}

function isReloadRecord(value: unknown): value is ReloadRecord {
  const record = value as Partial<ReloadRecord> | null;
  return (
    typeof record?.time === 'string' &&
    Array.isArray(record.argv) &&
    record.argv.every((word) => typeof word === 'string') &&
    typeof record.exitCode === 'number'
  );
}

/** The reload commands a stand-in server ran, oldest first ([] when none ran). */
export async function readReloadLog(stateDir: string, instanceId: string) {
  const path = join(serverRoot(stateDir, instanceId), reloadLogPath);
  const text = (await readIfPresent(path)) ?? '';
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index): ReloadRecord => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (!isReloadRecord(parsed)) {
        throw new Error(`${path} line ${index + 1} is not a reload record: ${line.slice(0, 200)}`);
      }
      return parsed;
    });
}

/** The document's default CertDir: where the install script puts the certificate files. */
export const defaultCertDir = '/etc/ssl/certs';

/** As the document's allowedPattern, and without `..` (the script refuses it too). */
const certNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const certDirPattern = /^\/[A-Za-z0-9._/-]*$/;

/** The full chain of `certName` on a server: `<root><certDir>/<certName>-fullchain.pem`. */
export function fullchainPath(root: string, certName: string, certDir = defaultCertDir): string {
  if (!certNamePattern.test(certName) || certName.includes('..')) {
    throw new Error(`not a certificate name: ${JSON.stringify(certName)}`);
  }
  if (!certDirPattern.test(certDir) || certDir.split('/').includes('..')) {
    throw new Error(`not a certificate directory: ${JSON.stringify(certDir)}`);
  }
  return join(root, certDir, `${certName}-fullchain.pem`);
}

/** A PEM file's content as the install script's `decode` leaves it: ending with a newline. */
function pemFromBase64(base64: string): Buffer {
  const pem = Buffer.from(base64, 'base64');
  return pem.length > 0 && pem[pem.length - 1] !== 0x0a
    ? Buffer.concat([pem, Buffer.from('\n')])
    : pem;
}

/**
 * What an install by a `standin:behaviour=instant` server leaves (it runs no script): the full
 * chain the script would write, `<root><CertDir>/<CertName>-fullchain.pem`, the certificate it
 * was sent then its chain, so that the server holds the certificate as a real one would. Never a
 * key (the parameters carry none: the script reads it from the job's secret, which an instant
 * server does not). Nothing for Mode=Verify, which changes nothing, nor for parameters the
 * script would refuse (a document without them, a name or directory outside its patterns, a
 * Certificate that is not one). True when written.
 */
export async function recordInstantInstall(
  root: string,
  values: Readonly<Record<string, readonly string[]>>,
): Promise<boolean> {
  if (values.Mode?.[0] === 'Verify') return false;
  const certName = values.CertName?.[0];
  const certificate = values.Certificate?.[0];
  const chain = values.CertificateChain?.[0];
  if (certName === undefined || certificate === undefined || chain === undefined) return false;
  let path: string;
  try {
    path = fullchainPath(root, certName, values.CertDir?.[0] ?? defaultCertDir);
    new X509Certificate(pemFromBase64(certificate));
  } catch {
    return false;
  }
  await replace(path, Buffer.concat([pemFromBase64(certificate), pemFromBase64(chain)]), 0o644);
  return true;
}

/**
 * The serial of the certificate a stand-in server holds for `certName` (in `certDir`, default
 * `/etc/ssl/certs`): the first certificate of its full chain, as `openssl x509 -serial` prints
 * it (upper-case hexadecimal, no colons); undefined when it holds none (or not a certificate, or
 * the name or directory is one the script refuses).
 * The same for a server that ran the real script and for an instant one.
 */
export async function readHeldSerial(
  stateDir: string,
  instanceId: string,
  cert: { readonly certName: string; readonly certDir?: string },
): Promise<string | undefined> {
  let path: string;
  try {
    path = fullchainPath(serverRoot(stateDir, instanceId), cert.certName, cert.certDir);
  } catch {
    // A name or directory the script refuses: no server can hold it.
    return undefined;
  }
  const text = await readIfPresent(path);
  const first = text?.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/)?.[0];
  if (first === undefined) return undefined;
  try {
    return new X509Certificate(first).serialNumber.toUpperCase();
  } catch {
    return undefined;
  }
}
