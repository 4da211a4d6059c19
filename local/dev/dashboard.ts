/**
 * `npm run dashboard [-- [DIR] --port N --open]`: with `bash local/up.sh` running, starts
 * `acm-cert-export dashboard` as the demo IAM user (the environment the local run prints), so
 * the page reads the local run's API. DIR: the local run's state directory (.state/local). The
 * options go to the command. Ctrl-C stops it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, stateDir } from '../paths.ts';
import { demoCliEnvironment } from './demo-cli-env.ts';

const [first, ...rest] = process.argv.slice(2);
const named = first !== undefined && !first.startsWith('-');
const dir = named ? first : join(stateDir, 'local');
const options = named ? rest : process.argv.slice(2);
const local = demoCliEnvironment(dir);
if (local === undefined) {
  console.error(
    `${join(dir, 'demo.json')} not found: start the local run first with "bash local/up.sh"`,
  );
  process.exit(2);
}
const child = spawn(process.execPath, ['service/src/cli/main.ts', 'dashboard', ...options], {
  cwd: repoRoot,
  env: local.env,
  stdio: 'inherit',
});
// Ctrl-C reaches the dashboard too from a terminal; passed on as well for a parent that signals
// this process alone. The dashboard stops once, whatever number it gets.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code) => process.exit(code ?? 1));
