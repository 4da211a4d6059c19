/**
 * Is a TCP port free, and if not, which process holds it? For the local run, which must stop
 * before touching any state when its port is taken (a second `bash local/up.sh`, or anything
 * else). Node's own modules only: local/up.sh asks before the npm dependencies are installed.
 *
 * The holder is found with what the machine has: Linux's /proc (the listening socket's inode,
 * then the process with that socket open: only the user's own processes unless root), else
 * `ss -ltnp`, else `lsof` (macOS); where none tells, the answer says only that the port is taken.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

export interface PortHolder {
  readonly pid?: number;
  /** The command line, as far as the source shows it. */
  readonly command?: string;
  /** Where the answer came from: `proc`, `ss`, `lsof`, or `none`. */
  readonly source: 'proc' | 'ss' | 'lsof' | 'none';
}

/** Whether `host:port` can be listened on now (the bind is released at once). */
export function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Who listens on TCP `port` (any address), as far as this machine lets us see. */
export function portHolder(port: number): PortHolder {
  return fromProc(port) ?? fromSs(port) ?? fromLsof(port) ?? { source: 'none' };
}

/** One line for a person: `pid 123 (node local/dev/run-local.ts)`, or what is known. */
export function describeHolder(holder: PortHolder): string {
  if (holder.pid === undefined) {
    return 'a process this user cannot see (another user’s, or one inside a container)';
  }
  return holder.command === undefined || holder.command === ''
    ? `pid ${holder.pid}`
    : `pid ${holder.pid} (${holder.command})`;
}

/** Listening sockets' inodes on `port` from /proc/net/tcp and tcp6 (state 0A: LISTEN). */
export function listeningInodes(tables: readonly string[], port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes: string[] = [];
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || fields[3] !== '0A') continue;
      if (local.slice(local.lastIndexOf(':') + 1) === hexPort && fields[9] !== undefined) {
        inodes.push(fields[9]);
      }
    }
  }
  return inodes;
}

function fromProc(port: number): PortHolder | undefined {
  let tables: string[];
  try {
    tables = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((path) => {
      try {
        return [readFileSync(path, 'utf8')];
      } catch {
        return [];
      }
    });
  } catch {
    return undefined;
  }
  if (tables.length === 0) return undefined;
  const sockets = new Set(listeningInodes(tables, port).map((inode) => `socket:[${inode}]`));
  if (sockets.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (sockets.has(target)) {
        return { pid: Number(entry), command: procCommand(Number(entry)), source: 'proc' };
      }
    }
  }
  return undefined; // listening, but by a process we may not look into: let ss or lsof try
}

function procCommand(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

function run(command: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
  } catch {
    return undefined; // not installed, or found nothing
  }
}

/** `ss -ltnpH 'sport = :PORT'`: `users:(("node",pid=123,fd=21))`. */
export function parseSs(output: string): { pid: number; command: string } | undefined {
  const match = /users:\(\("([^"]*)",pid=(\d+)/.exec(output);
  return match === null ? undefined : { pid: Number(match[2]), command: match[1] ?? '' };
}

function fromSs(port: number): PortHolder | undefined {
  const output = run('ss', ['-ltnpH', `sport = :${port}`]);
  if (output === undefined) return undefined;
  const found = parseSs(output);
  if (found === undefined) return undefined;
  return { pid: found.pid, command: procCommand(found.pid) ?? found.command, source: 'ss' };
}

/** `lsof -nP -iTCP:PORT -sTCP:LISTEN -Fpc`: lines `p123` and `cnode`. */
export function parseLsof(output: string): { pid: number; command?: string } | undefined {
  const pid = /^p(\d+)$/m.exec(output)?.[1];
  if (pid === undefined) return undefined;
  const command = /^c(.+)$/m.exec(output)?.[1];
  return command === undefined ? { pid: Number(pid) } : { pid: Number(pid), command };
}

function fromLsof(port: number): PortHolder | undefined {
  const output = run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc']);
  if (output === undefined) return undefined;
  const found = parseLsof(output);
  if (found === undefined) return undefined;
  const full = run('ps', ['-o', 'command=', '-p', String(found.pid)])?.trim();
  return { pid: found.pid, command: full || found.command, source: 'lsof' };
}
