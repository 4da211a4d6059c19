/**
 * `npm run demo`: with `bash local/up.sh` running, deploys the demo certificate through the CLI
 * (signed as the demo IAM user), waits for the outcome, and lists the installed files.
 * `npm run demo -- DIR` reads DIR's demo data instead: in the compose stack's stand-in container
 * `npm run demo -- .state`, where the seeding step wrote no endpoints and the container's
 * environment (AWS_ENDPOINT_URL, ACM_CERT_EXPORT_URL) gives them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot, stateDir } from '../paths.ts';
import { demoTarget } from '../stack-env.ts';

const dir = process.argv[2] ?? join(stateDir, 'local');
const demoFile = join(dir, 'demo.json');
if (!existsSync(demoFile)) {
  console.error(`${demoFile} not found: start the local run first with "bash local/up.sh"`);
  process.exit(2);
}
const demo = JSON.parse(readFileSync(demoFile, 'utf8')) as {
  apiUrl?: string;
  motoEndpoint?: string;
  certificateArn: string;
  instanceIds: string[];
  /** Set where the demo servers are containers running nginx (bash local/up.sh --servers containers). */
  reloadCommand?: string;
  nginx?: { instanceId: string; container: string; port: number }[];
};
const user = Object.fromEntries(
  readFileSync(join(dir, 'demo-user.env'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const motoEndpoint = demo.motoEndpoint ?? process.env.AWS_ENDPOINT_URL;
if (motoEndpoint === undefined) {
  console.error(`${demoFile} names no emulator endpoint and AWS_ENDPOINT_URL is not set`);
  process.exit(2);
}
const env = {
  ...process.env,
  ...user,
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: motoEndpoint,
  ACM_CERT_EXPORT_URL: demo.apiUrl ?? process.env.ACM_CERT_EXPORT_URL ?? 'http://127.0.0.1:8080',
};
const args = [
  'service/src/cli/main.ts',
  'deploy',
  '--cert-arn',
  demo.certificateArn,
  '--name',
  'demo',
  '--target',
  `${demoTarget.key}=${demoTarget.value}`,
  '--wait',
  ...(demo.reloadCommand === undefined ? [] : ['--reload-command', demo.reloadCommand]),
];
console.log(`$ acm-cert-export ${args.slice(1).join(' ')}`);
const run = spawnSync(process.execPath, args, { cwd: repoRoot, env, stdio: 'inherit' });

console.log('\nInstalled files:');
function walk(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path).flatMap((name) => {
    const full = join(path, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
for (const id of demo.instanceIds) {
  for (const file of walk(join(dir, 'servers', id))) {
    const mode = (statSync(file).mode & 0o777).toString(8);
    console.log(`  ${mode}  ${relative(repoRoot, file)}`);
  }
}
for (const { instanceId, container, port } of demo.nginx ?? []) {
  console.log(`  ${instanceId} is container ${container}: its files are in its /etc/ssl/`);
  const served = spawnSync(
    'sh',
    [
      '-c',
      'openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | openssl x509 -noout -serial -subject',
      'sh',
      String(port),
    ],
    { encoding: 'utf8' },
  );
  console.log(`  nginx on 127.0.0.1:${port} serves: ${served.stdout.trim().replace(/\n/g, ', ')}`);
}
process.exit(run.status ?? 1);
