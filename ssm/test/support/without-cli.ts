import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KnownCredentials } from './sigv4-front.ts';

/** Every program the install script runs (bash included: the test spawns it by name). */
export const scriptTools = [
  'bash',
  'awk',
  'base64',
  'basename',
  'cat',
  'chmod',
  'chown',
  'cmp',
  'cp',
  'cut',
  'date',
  'dirname',
  'find',
  'flock',
  'getent',
  'grep',
  'head',
  'id',
  'ln',
  'mkdir',
  'mktemp',
  'mv',
  'openssl',
  'rm',
  'sed',
  'sort',
  'stat',
  'tail',
  'tr',
] as const;

/** The system's own directories, never the project's .venv (where the AWS CLI is). */
const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function systemTool(name: string): string {
  const found = execFileSync('bash', ['-c', `command -v ${name}`], {
    env: { PATH: systemPath },
    encoding: 'utf8',
    // stdin not a pipe, or bash reads ~/.bashrc (it does when stdin is a socket).
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  if (!found.startsWith('/')) throw new Error(`${name} is not installed on this machine`);
  return found;
}

/** The machine's python3 (what a server would have), outside the project's virtual environment. */
export const systemPython = (): string => systemTool('python3');

/**
 * A Python 3.6 interpreter, the oldest the reader supports (RHEL 8's platform-python), where this
 * machine has one (pyenv's), else undefined.
 */
export function python36(): string | undefined {
  const candidates = ['/usr/libexec/platform-python', '/usr/bin/python3.6'];
  const pyenv = join(homedir(), '.pyenv', 'versions');
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv).filter((d) => d.startsWith('3.6.'))) {
      candidates.push(join(pyenv, v, 'bin', 'python3'));
    }
  }
  return candidates.find((p) => {
    if (!existsSync(p)) return false;
    const version = execFileSync(p, ['-c', 'import sys; print(sys.version_info[:2])'], {
      encoding: 'utf8',
    });
    return version.trim() === '(3, 6)';
  });
}

/**
 * A directory for PATH holding links to just the script's tools, and python3 when given one:
 * a server without the AWS CLI (and, without `python`, without Python either).
 */
export async function aToolsPath(python?: string): Promise<string> {
  const bin = await mkdtemp(join(tmpdir(), 'acm-install-bin-'));
  for (const tool of scriptTools) await symlink(systemTool(tool), join(bin, tool));
  if (python !== undefined) await symlink(python, join(bin, 'python3'));
  return bin;
}

/** An INI credentials file (the shared file's and SSM Agent's format) with one profile. */
export async function aCredentialsFile(
  path: string,
  profiles: Record<string, KnownCredentials>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const text = Object.entries(profiles)
    .map(
      ([name, c]) =>
        `[${name}]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\n${
          c.sessionToken === undefined ? '' : `aws_session_token = ${c.sessionToken}\n`
        }`,
    )
    .join('\n');
  await writeFile(path, text, { mode: 0o600 });
}

let serial = 0;

/** Fresh credentials, as STS would hand out (a session token when `session`). */
export function someCredentials(session: boolean): KnownCredentials {
  const n = `${process.pid}${++serial}`.padStart(16, '0').slice(-16);
  return {
    accessKeyId: `ASIA${n}`,
    secretAccessKey: `secret/${n}+${'k'.repeat(20)}`,
    ...(session ? { sessionToken: `session-token-${n}-${'t'.repeat(40)}` } : {}),
  };
}
