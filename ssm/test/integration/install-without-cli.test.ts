import { execFileSync } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFile } from '../../../local/iam/bed-hooks.ts';
import { repoRoot } from '../../../local/paths.ts';
import { testClients } from '../../../service/test/support/aws.ts';
import { iamRecorder, motoEndpoint } from '../../../service/test/support/bed-lane.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import { aScriptFixture, type ScriptFixture } from '../support/fixture.ts';
import { startImdsStandIn } from '../support/imds-stand-in.ts';
import {
  exportSecretText,
  type InstallRun,
  installParameters,
  runInstallScript,
  scriptEnvironment,
} from '../support/install-script.ts';
import { aLeaf, type TestLeaf } from '../support/pki.ts';
import {
  type ErrorReply,
  type KnownCredentials,
  type SigV4Front,
  startSigV4Front,
} from '../support/sigv4-front.ts';
import {
  aCredentialsFile,
  aToolsPath,
  python36,
  someCredentials,
  systemPython,
} from '../support/without-cli.ts';

// A server without the AWS CLI: the script reads the secret version with python3's standard
// library, signing GetSecretValue itself. Every read goes through a front that recomputes the
// SigV4 signature with the AWS SDK's signer and the credentials the test handed out (by
// environment, shared credentials file, EC2 instance metadata or SSM Agent's store), and refuses
// a wrong one as AWS does; then the emulator answers.

const file = relative(repoRoot, import.meta.filename);
let fx: ScriptFixture;
let pythonBin: string;
let bareBin: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  fx = await aScriptFixture();
  pythonBin = await aToolsPath(systemPython());
  bareBin = await aToolsPath();
});
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await fx.cleanup();
  for (const dir of [pythonBin, bareBin]) await rm(dir, { recursive: true, force: true });
});

const credentialVariables = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

interface Server {
  readonly root: string;
  readonly leaf: TestLeaf;
  readonly env: Record<string, string>;
  readonly front: SigV4Front;
}

/**
 * A server root, a leaf and its secret version, and the script's environment on a server without
 * the AWS CLI: PATH holds only the script's tools and python3 (`bin`), no credentials in the
 * environment, instance metadata disabled, and the endpoint a verifying front that knows
 * `credentials`.
 */
async function aServer(
  credentials: KnownCredentials,
  options: { bin?: string; answer?: (n: number) => ErrorReply | undefined } = {},
): Promise<Server> {
  const front = await startSigV4Front({
    target: motoEndpoint(),
    credentials,
    ...(options.answer === undefined ? {} : { answer: options.answer }),
  });
  cleanups.push(front.stop);
  const root = await fx.newRoot();
  const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
  const env = scriptEnvironment(root, installParameters(leaf, await fx.secretFor(leaf)));
  for (const name of credentialVariables) delete env[name];
  return {
    root,
    leaf,
    front,
    env: { ...env, PATH: options.bin ?? pythonBin, AWS_ENDPOINT_URL: front.endpoint },
  };
}

function expectInstalled(run: InstallRun, server: Server) {
  expect(run.code, `${run.stderr}\n${run.summary.message}`).toBe(0);
  expect(run.summary.outcome).toBe('installed');
  expect(run.summary.files).toHaveLength(3);
  const reads = server.front.requests;
  expect(reads.map((r) => [r.target, r.signatureValid, r.answer])).toEqual([
    ['secretsmanager.GetSecretValue', true, 'forwarded'],
  ]);
}

/** A TCP port nothing listens on (taken, then released). */
async function aClosedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('a server without the AWS CLI, with python3', () => {
  it('has no aws on the PATH the tests give it', () => {
    const found = execFileSync(join(pythonBin, 'bash'), ['-c', 'command -v aws || true'], {
      env: { PATH: pythonBin },
      encoding: 'utf8',
      // stdin not a pipe, or bash reads ~/.bashrc (it does when stdin is a socket).
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(found).toBe('');
  });

  it('installs with credentials from the environment, a session token signed with them', async () => {
    const credentials = someCredentials(true);
    const server = await aServer(credentials);
    const run = await runInstallScript({
      ...server.env,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken ?? '',
    });
    expectInstalled(run, server);
    const [read] = server.front.requests;
    expect(read?.sessionToken).toBe(credentials.sessionToken);
    expect(read?.signedHeaders).toContain('x-amz-security-token');
    expect(read?.accessKeyId).toBe(credentials.accessKeyId);
  });

  it('installs with the shared credentials file in $HOME/.aws, profile default', async () => {
    const credentials = someCredentials(false);
    const server = await aServer(credentials);
    await aCredentialsFile(join(server.root, '.aws', 'credentials'), { default: credentials });
    const run = await runInstallScript(server.env);
    expectInstalled(run, server);
    expect(server.front.requests[0]?.sessionToken).toBeUndefined();
  });

  it('reads AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE', async () => {
    const credentials = someCredentials(true);
    const server = await aServer(credentials);
    const path = join(server.root, 'elsewhere', 'credentials');
    await aCredentialsFile(path, { default: someCredentials(false), web: credentials });
    const run = await runInstallScript({
      ...server.env,
      AWS_SHARED_CREDENTIALS_FILE: path,
      AWS_PROFILE: 'web',
    });
    expectInstalled(run, server);
  });

  it('installs with an instance role from IMDSv2 (token first, every read with it)', async () => {
    const credentials = someCredentials(true);
    const imds = await startImdsStandIn({ name: 'web-server-role', credentials });
    cleanups.push(imds.stop);
    const server = await aServer(credentials);
    const run = await runInstallScript({
      ...server.env,
      AWS_SSM_INSTANCE_ID: 'i-0123456789abcdef0',
      AWS_EC2_METADATA_DISABLED: 'false',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
    });
    expectInstalled(run, server);
    expect(imds.requests).toEqual([
      { line: 'PUT /latest/api/token', token: false },
      { line: 'GET /latest/meta-data/iam/security-credentials/', token: true },
      { line: 'GET /latest/meta-data/iam/security-credentials/web-server-role', token: true },
    ]);
  });

  it('installs on a hybrid (mi-) node with SSM Agent’s own credentials store, never asking IMDS', async () => {
    const credentials = someCredentials(true);
    // Metadata that would hand out other credentials: the front refuses those.
    const imds = await startImdsStandIn({ name: 'other', credentials: someCredentials(true) });
    cleanups.push(imds.stop);
    const server = await aServer(credentials);
    await aCredentialsFile(join(server.root, 'var/lib/amazon/ssm/credentials'), {
      default: credentials,
    });
    const run = await runInstallScript({
      ...server.env,
      AWS_SSM_INSTANCE_ID: 'mi-0123456789abcdef0',
      AWS_EC2_METADATA_DISABLED: 'false',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
    });
    expectInstalled(run, server);
    expect(imds.requests).toEqual([]);
  });

  const py36 = python36();
  it.runIf(py36 !== undefined)('installs with Python 3.6 (RHEL 8’s platform-python)', async () => {
    const bin = await aToolsPath(py36);
    cleanups.push(() => rm(bin, { recursive: true, force: true }));
    const credentials = someCredentials(true);
    const server = await aServer(credentials, { bin });
    await aCredentialsFile(join(server.root, '.aws', 'credentials'), { default: credentials });
    const run = await runInstallScript(server.env);
    expectInstalled(run, server);
    expect(server.front.requests[0]?.userAgent).toMatch(/python\/3/);
  });

  it('uses RHEL 8’s platform-python where there is no python3', async () => {
    const credentials = someCredentials(false);
    const server = await aServer(credentials, { bin: bareBin });
    await aCredentialsFile(join(server.root, '.aws', 'credentials'), { default: credentials });
    // Under the stand-in root, as every program the script runs besides its tools.
    const platformPython = join(server.root, 'usr/libexec/platform-python');
    await mkdir(dirname(platformPython), { recursive: true });
    await symlink(py36 ?? systemPython(), platformPython);
    const run = await runInstallScript(server.env);
    expectInstalled(run, server);
  });

  it('retries throttling and 5xx replies, then installs', async () => {
    const credentials = someCredentials(false);
    const throttled: ErrorReply[] = [
      { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
      { status: 503, type: 'ServiceUnavailable', message: 'try again' },
    ];
    const server = await aServer(credentials, { answer: (n) => throttled[n] });
    await aCredentialsFile(join(server.root, '.aws', 'credentials'), { default: credentials });
    const run = await runInstallScript(server.env);
    expect(run.code, run.summary.message).toBe(0);
    expect(server.front.requests.map((r) => r.answer)).toEqual([
      'ThrottlingException',
      'ServiceUnavailable',
      'forwarded',
    ]);
  });
});

describe('what the outcome names when the secret cannot be read', () => {
  it('names both readers when there is neither aws nor python3', async () => {
    const server = await aServer(someCredentials(false), { bin: bareBin });
    const run = await runInstallScript(server.env);
    expect(run.code).toBe(11);
    expect(run.summary.outcome).toBe('secret-unreadable');
    expect(run.summary.message).toBe(
      'neither the AWS CLI (aws) nor python3 is installed: the secret needs one of them (see docs/target-install.md)',
    );
    expect(server.front.requests).toEqual([]);
  });

  it('names every credential source tried, and why each failed (IMDS without a role)', async () => {
    const imds = await startImdsStandIn();
    cleanups.push(imds.stop);
    const server = await aServer(someCredentials(false));
    const run = await runInstallScript({
      ...server.env,
      AWS_EC2_METADATA_DISABLED: 'false',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
    });
    expect(run.code).toBe(11);
    expect(run.summary.message).toContain(
      `no AWS credentials found: env: no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; credentials file ${server.root}/.aws/credentials: none; IMDS: no role attached`,
    );
    expect(server.front.requests).toEqual([]);
  });

  it('says when instance metadata is not reachable, or disabled', async () => {
    const server = await aServer(someCredentials(false));
    const port = await aClosedPort();
    const unreachable = await runInstallScript({
      ...server.env,
      AWS_EC2_METADATA_DISABLED: 'false',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    expect(unreachable.code).toBe(11);
    expect(unreachable.summary.message).toMatch(
      new RegExp(`IMDS http://127\\.0\\.0\\.1:${port}: not reachable \\(.*refused.*\\)$`),
    );
    const disabled = await runInstallScript(server.env);
    expect(disabled.summary.message).toMatch(/; IMDS: disabled$/);
  });

  it('names SSM Agent’s store on a hybrid node without credentials', async () => {
    const server = await aServer(someCredentials(false));
    const run = await runInstallScript({
      ...server.env,
      AWS_SSM_INSTANCE_ID: 'mi-0aaaaaaaaaaaaaaaa',
    });
    expect(run.code).toBe(11);
    expect(run.summary.message).toContain(
      `SSM Agent store ${server.root}/var/lib/amazon/ssm/credentials: none`,
    );
  });

  it('names a module a minimal python3 lacks, not a traceback', async () => {
    // python3 as python3-minimal packages can be: configparser missing.
    const bin = await aToolsPath();
    cleanups.push(() => rm(bin, { recursive: true, force: true }));
    const program =
      'import sys;sys.modules["configparser"]=None;exec(compile(sys.argv.pop(1),"<string>","exec"))';
    await writeFile(
      join(bin, 'python3'),
      `#!/bin/sh\nshift 2\nexec ${systemPython()} -I -c '${program}' "$@"\n`,
      { mode: 0o755 },
    );
    const server = await aServer(someCredentials(false), { bin });
    const run = await runInstallScript(server.env);
    expect(run.code).toBe(11);
    expect(run.summary.message).toMatch(
      /cannot be read: python3: ModuleNotFoundError configparser$/,
    );
  });

  it('gives AWS’s error type and message, nothing else of the reply (AccessDenied)', async () => {
    const credentials = someCredentials(true);
    const denied = {
      status: 400,
      type: 'AccessDeniedException',
      message: 'User: arn:aws:sts::123456789012:assumed-role/web/i-0 is not authorized',
    };
    const server = await aServer(credentials, { answer: () => denied });
    await aCredentialsFile(join(server.root, '.aws', 'credentials'), { default: credentials });
    const run = await runInstallScript(server.env);
    expect(run.code).toBe(11);
    expect(run.summary.message).toMatch(
      /^the secret acm-passphrase\/\S+ version \S+ cannot be read: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role\/web\/i-0 is not authorized$/,
    );
    expect(server.front.requests).toHaveLength(1);
  });

  it('is refused by the front when signed with another secret key (the check can fail)', async () => {
    const credentials = someCredentials(false);
    const server = await aServer(credentials);
    await aCredentialsFile(join(server.root, '.aws', 'credentials'), {
      default: { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` },
    });
    const run = await runInstallScript(server.env);
    expect(run.code).toBe(11);
    expect(run.summary.message).toContain(': InvalidSignatureException: The request signature');
    expect(server.front.requests.map((r) => r.signatureValid)).toEqual([false]);
  });

  it('names the endpoint it cannot reach, after retrying', async () => {
    const credentials = someCredentials(false);
    const server = await aServer(credentials);
    await aCredentialsFile(join(server.root, '.aws', 'credentials'), { default: credentials });
    const port = await aClosedPort();
    const run = await runInstallScript({
      ...server.env,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    });
    expect(run.code).toBe(11);
    expect(run.summary.message).toMatch(
      new RegExp(
        `cannot be read: cannot reach http://127\\.0\\.0\\.1:${port}: .*refused.* \\(3 attempts\\)$`,
      ),
    );
  });
});

describe('the servers’ policy on the test bed (local/iam)', () => {
  it('evaluates a python3 read exactly as an AWS CLI read (app id in the User-Agent)', async () => {
    const { ec2, secretsManager } = testClients();
    const instanceId = await anInstance(ec2, { tags: { env: 'dev' } });
    const leaf = await aLeaf(fx.ca, { passphrase: fx.passphrase });
    const created = await secretsManager.send(
      new CreateSecretCommand({
        Name: `acm-passphrase/iam-prod-${instanceId}`,
        SecretString: exportSecretText(leaf, fx.passphrase),
        Tags: [{ Key: 'env', Value: 'prod' }],
      }),
    );
    const secret = { secretId: created.ARN ?? '', versionId: created.VersionId ?? '' };
    const reports: string[] = [];
    for (const path of ['cli', 'python'] as const) {
      const root = await fx.newRoot();
      const env = {
        ...scriptEnvironment(root, installParameters(leaf, secret)),
        AWS_SDK_UA_APP_ID: `acm-cert-export-server.${instanceId}`,
        ...(path === 'python' ? { PATH: pythonBin } : {}),
      };
      // The emulator answers: only the evaluation says that AWS would refuse this read.
      const run = await runInstallScript(env);
      expect(run.code, run.summary.message).toBe(0);
      const { report, evaluated } = await checkFile(iamRecorder(), file);
      expect(evaluated, path).toBe(1);
      reports.push(report ?? '');
    }
    expect(reports[0]).toContain(`server ${instanceId} (role tags {"env":"dev"})`);
    expect(reports[0]).toMatch(
      /secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:acm-passphrase\/iam-prod-\S+ → ImplicitlyDenied/,
    );
    expect(reports[1]).toBe(reports[0]);
  });
});
