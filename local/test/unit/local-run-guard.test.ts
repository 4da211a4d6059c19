import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localRunOptions, pidFile, whyNotStart } from '../../dev/local-run-guard.ts';
import {
  describeHolder,
  listeningInodes,
  parseLsof,
  parseSs,
  portHolder,
  portIsFree,
} from '../../dev/port-holder.ts';
import { freeLoopbackPort } from '../../moto/moto-server.ts';
import { repoRoot } from '../../paths.ts';

// A second `bash local/up.sh` while the first runs (or while anything holds its port) must stop
// before it sets anything up or touches the state directory, naming what holds the port. The
// port here is one this test holds itself, on a free port.
let tmp: string;
let listener: Server;
let port: number;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'local-run-guard-'));
  port = await freeLoopbackPort();
  listener = createServer();
  listener.listen(port, '127.0.0.1');
  await once(listener, 'listening');
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

/** A state directory holding a first run's files. */
function firstRunState(name: string): { dir: string; marker: string } {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'servers'), { recursive: true });
  const marker = join(dir, 'servers', 'installed.pem');
  writeFileSync(marker, 'the first run’s state\n');
  return { dir, marker };
}

describe('bash local/up.sh on a port that is taken', () => {
  it('stops before setting up or touching the state, naming the process that holds it', () => {
    const { dir, marker } = firstRunState('busy-port');
    const run = spawnSync('bash', ['local/up.sh', '--port', String(port), '--state-dir', dir], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toContain(`port ${port} is in use by pid ${process.pid} (`);
    expect(run.stderr).toContain('Nothing was changed.');
    expect(run.stderr).not.toContain('Setup complete'); // setup.sh did not run
    expect(existsSync(marker)).toBe(true);
    expect(existsSync(pidFile(dir))).toBe(false); // nor claimed the directory
  });

  it('takes the port from PORT when --port is not given', () => {
    const { dir, marker } = firstRunState('busy-port-env');
    const run = spawnSync('bash', ['local/up.sh', '--state-dir', dir], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PORT: String(port) },
    });
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toContain(`port ${port} is in use`);
    expect(existsSync(marker)).toBe(true);
  });

  it('run-local.ts itself stops the same way when started directly', () => {
    const { dir, marker } = firstRunState('busy-port-direct');
    const run = spawnSync(
      process.execPath,
      ['local/dev/run-local.ts', '--port', String(port), '--state-dir', dir],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toContain(`pid ${process.pid}`);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('a state directory another local run uses', () => {
  let other: ChildProcess;
  afterAll(() => {
    other?.kill();
  });

  it('is refused on a free port, naming that run', async () => {
    const { dir, marker } = firstRunState('busy-state');
    // A live process whose command line is a local run's.
    other = spawn('bash', ['-c', 'exec -a run-local.ts sleep 60'], { stdio: 'ignore' });
    // Until bash has exec'd sleep under that name (on Linux, where /proc shows it).
    for (let i = 0; i < 500 && process.platform === 'linux'; i++) {
      const cmdline = existsSync(`/proc/${other.pid}/cmdline`)
        ? readFileSync(`/proc/${other.pid}/cmdline`, 'utf8')
        : '';
      if (cmdline.startsWith('run-local.ts')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    writeFileSync(pidFile(dir), `${other.pid}\n`);
    const free = await freeLoopbackPort();
    const why = await whyNotStart({ port: free, stateDir: dir });
    expect(why).toContain(`another local run (pid ${other.pid}: run-local.ts 60) uses ${dir}`);
    const run = spawnSync('bash', ['local/up.sh', '--port', String(free), '--state-dir', dir], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(3);
    expect(existsSync(marker)).toBe(true);
  });

  it('is claimed by up.sh before it sets up, so a second up.sh meanwhile stops too', async () => {
    const { dir, marker } = firstRunState('claimed-by-up');
    const free = await freeLoopbackPort();
    // The first up.sh, still setting up (its API port not yet taken): a live process by that name.
    const first = spawn('bash', ['-c', 'exec -a "bash local/up.sh" sleep 60'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 500 && process.platform === 'linux'; i++) {
        const cmdline = existsSync(`/proc/${first.pid}/cmdline`)
          ? readFileSync(`/proc/${first.pid}/cmdline`, 'utf8')
          : '';
        if (cmdline.startsWith('bash local/up.sh')) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const check = spawnSync(
        process.execPath,
        [
          'local/dev/check-local-run.ts',
          '--owner-pid',
          String(first.pid),
          '--port',
          String(free),
          '--state-dir',
          dir,
        ],
        { cwd: repoRoot, encoding: 'utf8' },
      );
      expect(check.status, check.stderr).toBe(0);
      expect(readFileSync(pidFile(dir), 'utf8').trim()).toBe(String(first.pid));

      const second = spawnSync(
        'bash',
        ['local/up.sh', '--port', String(free), '--state-dir', dir],
        {
          cwd: repoRoot,
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(second.status, second.stderr).toBe(3);
      expect(second.stderr).toContain(`another local run (pid ${first.pid}`);
      expect(readFileSync(pidFile(dir), 'utf8').trim()).toBe(String(first.pid));
      expect(existsSync(marker)).toBe(true);
    } finally {
      first.kill();
    }
  });

  it('is free again once that run has ended, or when the pid is now another program', async () => {
    const { dir } = firstRunState('stale-state');
    const ended = spawnSync('true');
    writeFileSync(pidFile(dir), `${ended.pid}\n`);
    const free = await freeLoopbackPort();
    expect(await whyNotStart({ port: free, stateDir: dir })).toBeUndefined();
    if (process.platform === 'linux') {
      writeFileSync(pidFile(dir), `${process.ppid}\n`); // alive, but not a local run
      expect(await whyNotStart({ port: free, stateDir: dir })).toBeUndefined();
    }
  });
});

describe('the local run options', () => {
  it('put the demo servers on this machine unless --servers containers is given', () => {
    expect(localRunOptions([], {}).servers).toBe('local');
    expect(localRunOptions(['--servers', 'containers'], {}).servers).toBe('containers');
    expect(() => localRunOptions(['--servers', 'docker'], {})).toThrow(
      '--servers must be local or containers, got "docker"',
    );
  });
});

describe('port-holder', () => {
  it('tells a free port from a taken one', async () => {
    expect(await portIsFree(port, '127.0.0.1')).toBe(false);
    expect(await portIsFree(await freeLoopbackPort(), '127.0.0.1')).toBe(true);
  });

  it.skipIf(process.platform !== 'linux')('finds this process as the holder on Linux', () => {
    const holder = portHolder(port);
    expect(holder.pid).toBe(process.pid);
    expect(holder.command).toContain('node');
    expect(describeHolder(holder)).toMatch(new RegExp(`^pid ${process.pid} \\(.*node`));
  });

  it('reads /proc/net/tcp, ss and lsof output', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0',
      '   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0',
      '   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0',
    ].join('\n');
    expect(listeningInodes([table], 8080)).toEqual(['4242']);
    expect(listeningInodes([table], 8081)).toEqual(['4444']);
    expect(listeningInodes([table], 8082)).toEqual([]);
    expect(
      parseSs('LISTEN 0 511 127.0.0.1:8080 0.0.0.0:* users:(("node",pid=1234,fd=21))\n'),
    ).toEqual({ pid: 1234, command: 'node' });
    expect(parseSs('LISTEN 0 511 127.0.0.1:8080 0.0.0.0:*\n')).toBeUndefined();
    expect(parseLsof('p1234\ncnode\nf21\n')).toEqual({ pid: 1234, command: 'node' });
    expect(parseLsof('')).toBeUndefined();
    expect(describeHolder({ source: 'none' })).toContain('cannot see');
  });
});
