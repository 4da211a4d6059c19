import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { parseMessage } from '../../../src/messages/parse-message.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { testClients } from '../../support/aws.ts';
import { motoEndpoint } from '../../support/bed-lane.ts';
import { anIamUser, type IamUser } from '../../support/builders/iam-users.ts';
import { canBootstrapNode22, node22BinDir } from '../../support/node22.ts';
import { aMapping, certArn, type TestApi, testApi } from '../../unit/api/support/harness.ts';

/**
 * The npm package as a user gets it: `npm pack` (its prepack builds dist/cli.mjs), then
 * `npm install -g` of the tarball into a temporary prefix under Node 24 and under Node 22, each
 * with that Node first on PATH (npm and the installed command's `#!/usr/bin/env node` both run
 * on it). The installed `acm-cert-export` prints the package's version and its help, and runs
 * real commands against the app on loopback (STS on the emulator, as in ../cli/cli.test.ts):
 * `list` (a signed token, the API's answer formatted), `renew` (the bundled SQS client and
 * credential chain) and `dashboard` (its page's files, which the package carries beside the
 * bundle, and a read forwarded to the API).
 */

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
const endpoint = motoEndpoint();
const minutes = 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env: Record<string, string | undefined>; timeout: number },
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { ...options, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface PackedFile {
  path: string;
  size: number;
}

let dir: string;
let tarball: string;
let packedFiles: PackedFile[];
let api: TestApi;
let baseUrl: string;
let reader: IamUser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'acm-cert-export-package-'));
  // npm pack runs the prepack script (node service/build.ts cli) first; Node 24 runs it.
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: root,
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
    timeout: 5 * minutes,
  });
  expect(packed.code, packed.stderr).toBe(0);
  // The prepack script's own output comes first on stdout; the JSON report follows it.
  const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n'))) as {
    filename: string;
    files: PackedFile[];
  }[];
  const [entry] = report;
  if (entry === undefined) throw new Error(`npm pack reported nothing: ${packed.stdout}`);
  tarball = join(dir, entry.filename);
  packedFiles = entry.files;

  const { iam } = testClients();
  reader = await anIamUser(iam, { userName: 'package-reader' });
  const auth = {
    mode: 'sts' as const,
    audience: 'certs-test',
    stsEndpoint: endpoint,
    maxTokenAgeSeconds: 300,
    principals: [{ principal: reader.arn, actions: ['read' as const], targets: [] }],
  };
  api = testApi({
    config: { auth },
    authenticator: stsAuthenticator({ ...auth, clock: systemClock }),
  });
  await api.mappings.put(aMapping({ certName: 'packaged', notAfter: '2099-01-01T00:00:00.000Z' }));
  baseUrl = await api.app.listen({ host: '127.0.0.1', port: 0 });
}, 6 * minutes);

afterAll(async () => {
  await api?.app.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the CLI bundle and the project documents only: no sources, tests or infrastructure', () => {
    const paths = packedFiles.map((f) => f.path).sort();
    // The dashboard's files, which the CLI's build copies beside the bundle.
    const pageDir = join(root, 'service/src/dashboard/page');
    const page = existsSync(pageDir) ? readdirSync(pageDir).map((f) => `dist/page/${f}`) : [];
    expect(paths).toEqual(
      [
        'CHANGELOG.md',
        'LICENSE',
        'README.md',
        'SECURITY.md',
        'dist/cli.mjs',
        ...page,
        'package.json',
      ].sort(),
    );
    expect(
      paths.filter((p) => /(^|\/)(test|infra|local|bench|node_modules)\/|\.ts$/.test(p)),
    ).toEqual([]);
    expect(pkg.bin['acm-cert-export']).toBe('dist/cli.mjs');
    const cli = readFileSync(join(root, 'dist', 'cli.mjs'), 'utf8');
    expect(cli.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

const nodes: [string, () => Promise<string>, boolean][] = [
  ['24', async () => dirname(process.execPath), true],
  ['22', node22BinDir, canBootstrapNode22],
];

describe.each(nodes)('installed with npm install -g under Node %s', (major, binDir, runs) => {
  let nodeBin: string;
  let command: string;
  /** PATH with this Node first: npm and the command's shebang resolve `node` to it. */
  const path = () => `${nodeBin}:${process.env.PATH ?? '/usr/bin:/bin'}`;

  const cliEnv = (user: IamUser | undefined) => ({
    PATH: path(),
    HOME: '/nonexistent',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: endpoint,
    ACM_CERT_EXPORT_URL: baseUrl,
    ACM_CERT_EXPORT_AUDIENCE: 'certs-test',
    ...(user === undefined
      ? {}
      : {
          AWS_ACCESS_KEY_ID: user.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: user.credentials.secretAccessKey,
        }),
  });

  const cli = (user: IamUser | undefined, ...args: string[]): Promise<Run> =>
    run(command, args, { env: cliEnv(user), timeout: 2 * minutes });

  beforeAll(async () => {
    if (!runs) return;
    nodeBin = await binDir();
    const node = await run(join(nodeBin, 'node'), ['-p', 'process.versions.node'], {
      env: {},
      timeout: minutes,
    });
    expect(node.stdout.split('.')[0]).toBe(major);
    const prefix = join(dir, `prefix-node${major}`);
    // What the README says, with a prefix of its own instead of the global one.
    const installed = await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball],
      { env: { ...process.env, PATH: path() }, timeout: 5 * minutes },
    );
    expect(installed.code, installed.stderr).toBe(0);
    command = join(prefix, 'bin', 'acm-cert-export');
  }, 8 * minutes);

  it.skipIf(!runs)('--version prints package.json’s version', async () => {
    const out = await cli(undefined, '--version');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe(pkg.version);
  });

  it.skipIf(!runs)('--help lists the commands', async () => {
    const out = await cli(undefined, '--help');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^Usage: acm-cert-export /);
    expect(out.stdout).toMatch(/\n {2}list\b/);
    expect(out.stdout).toMatch(/\n {2}deploy\b/);
  });

  it.skipIf(!runs)('list signs a token and prints the managed certificates', async () => {
    const out = await cli(reader, 'list');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^TARGET +NAME/);
    expect(out.stdout).toMatch(new RegExp(`env=dev +packaged +.*${certArn}`));
  });

  it.skipIf(!runs)(
    'renew puts an ACM RENEWAL event on a queue through the bundled SQS client',
    async () => {
      const { sqs } = testClients();
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: `package-renew-node${major}` }),
      );
      const out = await cli(reader, 'renew', '--cert-arn', certArn, '--queue-url', QueueUrl ?? '');
      expect(out.code, out.stderr).toBe(0);
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
      );
      expect(parseMessage(Messages?.[0]?.Body ?? '')).toMatchObject({
        kind: 'acm-event',
        event: { resources: [certArn], detail: { Action: 'RENEWAL' } },
      });
    },
  );

  it.skipIf(!runs)(
    'dashboard serves its page and forwards a read, signed as the user',
    async () => {
      const child = spawn(command, ['dashboard', '--port', '0'], {
        env: cliEnv(reader),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = once(child, 'exit');
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const found = () => {
            const match = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
            if (match?.[1] !== undefined) resolve(match[1]);
          };
          child.stdout.on('data', found);
          child.once('exit', (code) => reject(new Error(`dashboard exited ${code}: ${stderr}`)));
        });
        const page = await fetch(url);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await page.text()).toMatch(/<html/i);
        const read = await fetch(`${url}api/v1/certificates`);
        expect(read.status).toBe(200);
        const body = (await read.json()) as { items: { certName: string }[] };
        expect(body.items.map((i) => i.certName)).toContain('packaged');
      } finally {
        child.kill('SIGTERM');
      }
      const [code] = (await exited) as [number | null];
      expect(code, stderr).toBe(0);
    },
  );
});
