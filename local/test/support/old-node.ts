import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A bin directory whose `node` stands for a Node older than 24: it reports v20 and refuses to
 * run anything (as Node 20 refuses TypeScript), except npm itself (any npm-cli.js), which runs on
 * the Node running the tests. Put it first on PATH to check a command works whatever Node the
 * terminal has, without a Node 20 on the machine.
 */
export function oldNodeBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'node'),
    `#!/usr/bin/env bash
case "$*" in
  --version | -v) echo v20.0.0; exit 0 ;;
  "-p process.versions.node.split(\\".\\")[0]") echo 20; exit 0 ;;
  *npm-cli.js* | */bin/npm*) exec ${JSON.stringify(process.execPath)} "$@" ;;
esac
echo "old node: cannot run $*" >&2
exit 9
`,
  );
  chmodSync(join(bin, 'node'), 0o755);
  return bin;
}
