import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../paths.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  return !alive(pid);
}

describe('the moto launcher', () => {
  it('never outlives the process that started it, even one killed with SIGKILL', async () => {
    // A runner that starts moto and is then killed without any chance to clean up.
    const runner = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const { startMoto } = await import('./local/moto/moto-server.ts'); const m = await startMoto(); console.log(JSON.stringify({ pid: m.pid, endpoint: m.endpoint })); setInterval(() => {}, 1000);",
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(runner.stdout, 'data')) as [Buffer];
    const { pid, endpoint } = JSON.parse(String(line)) as { pid: number; endpoint: string };
    expect((await fetch(`${endpoint}/moto-api/`)).ok).toBe(true);
    runner.kill('SIGKILL');
    await once(runner, 'exit');
    expect(await gone(pid, 10_000)).toBe(true);
  });
});
