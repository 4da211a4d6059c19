/**
 * What the local run checks before it touches anything: its options, that its API port is free
 * and that no other local run uses its state directory. A second `bash local/up.sh` (or anything
 * else on the port) stops here, saying who holds the port, before the first run's state is wiped.
 * Node's own modules only: local/up.sh runs `check-local-run.ts` before setting up.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stateDir as stateRoot } from '../paths.ts';
import { describeHolder, portHolder, portIsFree } from './port-holder.ts';

export interface LocalRunOptions {
  /** The service's API port on 127.0.0.1: `--port`, else `PORT`, else 8080. */
  readonly port: number;
  readonly stateDir: string;
  /**
   * `--servers local` (default): the two demo servers are directories of this machine;
   * `--servers containers`: containers of the bookworm server image running nginx.
   */
  readonly servers: 'local' | 'containers';
}

export class UsageError extends Error {}

export function localRunOptions(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): LocalRunOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      port: { type: 'string', default: env.PORT?.trim() || '8080' },
      'state-dir': { type: 'string', default: join(stateRoot, 'local') },
      servers: { type: 'string', default: 'local' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be a TCP port, got "${values.port}"`);
  }
  const servers = values.servers;
  if (servers !== 'local' && servers !== 'containers') {
    throw new UsageError(`--servers must be local or containers, got "${servers}"`);
  }
  return { port, stateDir: values['state-dir'] ?? join(stateRoot, 'local'), servers };
}

/** The file in the state directory naming the local run that uses it. */
export function pidFile(stateDir: string): string {
  return join(stateDir, 'run-local.pid');
}

/**
 * Records `pid` as the local run using `stateDir`. local/up.sh claims it with its own pid as
 * soon as the checks pass, before setting up (which can take a minute), and then execs
 * run-local.ts under that same pid, which claims it again after wiping the directory.
 */
export function claimStateDir(stateDir: string, pid: number): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(pidFile(stateDir), `${pid}\n`);
}

/** The pid of another live local run recorded in `stateDir`, if any. */
function otherRun(stateDir: string): { pid: number; command?: string } | undefined {
  const file = pidFile(stateDir);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return undefined; // it has ended
  }
  let command: string | undefined;
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return { pid }; // no /proc (macOS): the pid is alive, trust the file
  }
  // local/up.sh while it sets up, run-local.ts once up.sh has exec'd it; anything else is a pid
  // reused since that run ended without removing its file.
  return /run-local|up\.sh/.test(command) ? { pid, command } : undefined;
}

/** Why the local run must not start, or undefined when it may. */
export async function whyNotStart(
  options: Pick<LocalRunOptions, 'port' | 'stateDir'>,
): Promise<string | undefined> {
  const { port, stateDir } = options;
  if (!(await portIsFree(port, '127.0.0.1'))) {
    const holder = describeHolder(portHolder(port));
    return [
      `port ${port} is in use by ${holder}.`,
      'Another local run? Stop it first (Ctrl-C in its terminal), or start this one on another',
      `port with its own state: bash local/up.sh --port ${port + 1} --state-dir .state/local-${port + 1}`,
      'Nothing was changed.',
    ].join('\n');
  }
  const other = otherRun(stateDir);
  if (other !== undefined) {
    return [
      `another local run (pid ${other.pid}${other.command === undefined ? '' : `: ${other.command}`}) uses ${stateDir}.`,
      'Stop it first, or give this one its own: --state-dir <dir>. Nothing was changed.',
    ].join('\n');
  }
  return undefined;
}
