/**
 * Stand-in servers that are containers (tag `standin:container`), for the tests: the bookworm
 * image of local/servers/images.sh (Debian's nginx, openssl, python3, AWS CLI), containers of it
 * on the host's network (they reach the emulator and the stand-in on loopback), and what runs in
 * them. Containers are labelled `org.acm-cert-export.test` and named after the test process.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../paths.ts';

const run = promisify(execFile);

/** The bookworm server image (with nginx), built by images.sh unless cached. */
export async function bookwormImage(): Promise<string> {
  try {
    const { stdout } = await run('bash', [join(repoRoot, 'local/servers/images.sh'), 'bookworm'], {
      maxBuffer: 1 << 20,
    });
    return stdout.trim().split('\n').at(-1) as string;
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`local/servers/images.sh bookworm failed: ${stderr.trim()}`);
  }
}

/** A container name unique to this test process. */
export function containerName(purpose: string): string {
  return `acm-${purpose}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Where nginx-server.sh is in a server container (bind-mounted, read-only). */
export const nginxServerScript = '/usr/local/sbin/acm-cert-export-nginx-server';

/** Starts a detached container of `image` on the host's network running `argv`. */
export async function startContainer(
  cli: string,
  name: string,
  image: string,
  argv: readonly string[],
  label: string,
): Promise<void> {
  await run(cli, [
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    'host',
    '--label',
    `org.acm-cert-export.test=${label}`,
    '--volume',
    `${join(repoRoot, 'local/run-command/nginx-server.sh')}:${nginxServerScript}:ro`,
    image,
    ...argv,
  ]);
}

export async function removeContainer(cli: string, name: string): Promise<void> {
  // kill, then rm: at once with podman and Docker alike (`rm --time` is podman's only).
  await run(cli, ['kill', name]).catch(() => undefined);
  await run(cli, ['rm', '--force', name]).catch(() => undefined);
}

/** `sh -c script` in the container as root; its stdout (throws when it fails). */
export async function shIn(cli: string, name: string, script: string): Promise<string> {
  const { stdout } = await run(cli, ['exec', name, 'sh', '-c', script]);
  return stdout;
}

/** The command lines of the processes running in the container (it may have no `ps`). */
export async function processesIn(cli: string, name: string): Promise<string[]> {
  const out = await shIn(
    cli,
    name,
    'for p in /proc/[0-9]*; do tr "\\0" " " <"$p/cmdline" 2>/dev/null; echo; done',
  );
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
