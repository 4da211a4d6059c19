import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  randomUUID,
  X509Certificate,
} from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testClients } from '../../../../service/test/support/aws.ts';
import { documentScript, readInstallScript } from '../../../../ssm/build-document.ts';
import { expectCombinedOf, expectP12Of } from '../../../../ssm/test/support/formats.ts';
import { type ImdsStandIn, startImdsStandIn } from '../../../../ssm/test/support/imds-stand-in.ts';
import {
  anExportSecret,
  type ExportSecretRef,
  exportSecretText,
  type InstallSummary,
  installParameters,
} from '../../../../ssm/test/support/install-script.ts';
import {
  aLeaf,
  aTestCa,
  days,
  type TestCa,
  type TestLeaf,
} from '../../../../ssm/test/support/pki.ts';
import {
  type KnownCredentials,
  type SigV4Front,
  startSigV4Front,
} from '../../../../ssm/test/support/sigv4-front.ts';
import {
  recorderScript,
  reloadAllowListPath,
  reloadLogPath,
} from '../../../run-command/server-root.ts';
import { type AwsFront, startAwsFront } from './aws-front.ts';
import { type Codename, ServerContainer, serverImage } from './server-container.ts';

/**
 * The install script's whole lifecycle on a real Debian release, as root with the real /etc/ssl
 * paths (no ACM_CERT_EXPORT_ROOT): two containers of the release's image (local/servers/), one
 * as built (with Debian's AWS CLI; credentials in /root/.aws/credentials, as SSM Agent writes a
 * hybrid node's), one after `dpkg --purge awscli` (the script's python3 reader; credentials from
 * EC2 instance metadata, IMDSv2, or from the agent's store of an `mi-` node). The script is the
 * text the SSM document carries, run as the agent runs it (`sh -c _script.sh` in the command's
 * orchestration directory) with the agent's variables (AWS_SSM_INSTANCE_ID,
 * AWS_SSM_REGION_NAME) and the parameters as SSM_*; no AWS setting at all: each container
 * resolves Secrets Manager's public name to its own HTTPS front (aws-front.ts), whose CA it
 * trusts, and that front hands each request to a front that checks its SigV4 signature against
 * that server's credentials (ssm/test/support/sigv4-front.ts) before the emulator answers.
 */

export interface Distribution {
  readonly codename: Codename;
  readonly release: number;
  /** What `openssl version` says, e.g. /^OpenSSL 1\.1\.1/ (and its name in the title). */
  readonly openssl: RegExp;
  readonly opensslName: string;
  /** Where the server without the AWS CLI finds its credentials. */
  readonly withoutCli: 'imds' | 'hybrid';
}

const region = 'us-east-1';
const scriptDir = '/var/lib/amazon/ssm/document/orchestration/test-command/installCertificate';
const scriptFile = `${scriptDir}/_script.sh`;
const reloadOk = '/usr/local/sbin/acm-test-reload-ok';
const reloadFail = '/usr/local/sbin/acm-test-reload-fail';
const fullchain = '/etc/ssl/certs/web-fullchain.pem';
const chain = '/etc/ssl/certs/web-chain.pem';
const key = '/etc/ssl/private/web-privkey.pem';
const combined = '/etc/ssl/private/web-combined.pem';
const p12 = '/etc/ssl/private/web.p12';
const files = [fullchain, chain, key];
const dirs = ['/etc/ssl/certs', '/etc/ssl/private'];

const someCredentials = (prefix: string, session: boolean): KnownCredentials => ({
  accessKeyId: `${prefix}${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64'),
  ...(session ? { sessionToken: randomBytes(60).toString('base64') } : {}),
});

const sharedCredentialsFile = (c: KnownCredentials) =>
  [
    '[default]',
    `aws_access_key_id = ${c.accessKeyId}`,
    `aws_secret_access_key = ${c.secretAccessKey}`,
    ...(c.sessionToken === undefined ? [] : [`aws_session_token = ${c.sessionToken}`]),
    '',
  ].join('\n');

/** One server of the matrix: its container, what it was given, and how the script runs on it. */
interface Server {
  readonly container: ServerContainer;
  readonly instanceId: string;
  readonly credentials: KnownCredentials;
  /** Where its requests are checked and recorded. */
  readonly sigv4: SigV4Front;
  readonly imds?: ImdsStandIn;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly summary: InstallSummary;
}

export function describeDistribution(d: Distribution): void {
  const skipped = inject('serversSkipped');
  const title = `Debian ${d.release} (${d.codename}, ${d.opensslName})`;
  describe.skipIf(skipped !== '')(title, () => {
    let dir: string;
    let ca: TestCa;
    let passphrase: string;
    let secret: ExportSecretRef;
    /** Everything started, stopped in afterAll (containers first). */
    const containers: ServerContainer[] = [];
    const servicesStarted: { stop(): Promise<void> }[] = [];
    const servers: Record<'cli' | 'noCli', Server | undefined> = {
      cli: undefined,
      noCli: undefined,
    };
    let secretsManager: SecretsManagerClient;

    /** A new version of the secret for `leaf` (with a PKCS#12 password line when given one). */
    async function secretFor(leaf: TestLeaf, pkcs12Password?: string): Promise<ExportSecretRef> {
      const out = await secretsManager.send(
        new PutSecretValueCommand({
          SecretId: secret.secretId,
          SecretString: exportSecretText(leaf, passphrase, pkcs12Password),
        }),
      );
      if (out.VersionId === undefined) throw new Error('no secret version');
      return { ...secret, versionId: out.VersionId };
    }

    const leafBorn = (daysAgo: number) =>
      aLeaf(ca, { passphrase, notBefore: new Date(Date.now() - days(daysAgo)) });

    /**
     * A container of the release, prepared as every server of the matrix is, with its own
     * fronts: HTTPS for Secrets Manager's name, then the SigV4 check of `credentials`.
     */
    async function aServer(
      image: string,
      suffix: string,
      credentials: KnownCredentials,
    ): Promise<{ container: ServerContainer; sigv4: SigV4Front }> {
      const sigv4 = await startSigV4Front({ target: inject('motoEndpoint'), credentials });
      servicesStarted.push(sigv4);
      const front: AwsFront = await startAwsFront(sigv4.endpoint, region);
      servicesStarted.push(front);
      const container = await ServerContainer.start(image, `${d.codename}-${suffix}`, [
        '--add-host',
        `${front.hostName}:${front.address}`,
      ]);
      containers.push(container);
      await container.writeFile(
        '/usr/local/share/ca-certificates/acm-cert-export-test-front.crt',
        front.caCertificate,
        0o644,
      );
      await container.sh('update-ca-certificates >/dev/null');
      await container.writeFile(scriptFile, documentScript(readInstallScript()), 0o700);
      await container.writeFile(reloadAllowListPath, `${reloadOk}\n${reloadFail}\n`, 0o644);
      await container.writeFile(reloadOk, recorderScript('/', reloadOk, 'record', 0), 0o755);
      await container.writeFile(reloadFail, recorderScript('/', reloadFail, 'fail', 0), 0o755);
      return { container, sigv4 };
    }

    beforeAll(async () => {
      const image = await serverImage(d.codename);
      secretsManager = testClients().secretsManager;
      dir = await mkdtemp(join(tmpdir(), `acm-servers-${d.codename}-`));
      ca = await aTestCa(join(dir, 'ca'));
      passphrase = `pass ${randomBytes(8).toString('hex')} #!`;
      secret = await anExportSecret(secretsManager, 'no export yet');

      const cliCredentials = someCredentials('AKIA', false);
      const noCliCredentials = someCredentials('ASIA', true);
      const [cli, noCli] = await Promise.all([
        aServer(image, 'aws-cli', cliCredentials),
        aServer(image, 'no-cli', noCliCredentials).then(async (server) => {
          await server.container.sh('dpkg --purge awscli >/dev/null');
          return server;
        }),
      ]);
      await cli.container.writeFile(
        '/root/.aws/credentials',
        sharedCredentialsFile(cliCredentials),
        0o600,
      );
      // AWS CLI v2 trusts only the CA bundle it carries (Debian's too), not the system's: the
      // front's CA is named as a server behind a TLS-inspecting proxy names that proxy's.
      await cli.container.writeFile(
        '/root/.aws/config',
        '[default]\nca_bundle = /etc/ssl/certs/ca-certificates.crt\n',
        0o644,
      );
      servers.cli = { ...cli, instanceId: 'mi-0a1b2c3d4e5f60718', credentials: cliCredentials };
      if (d.withoutCli === 'hybrid') {
        await noCli.container.writeFile(
          '/var/lib/amazon/ssm/credentials',
          sharedCredentialsFile(noCliCredentials),
          0o600,
        );
        servers.noCli = {
          ...noCli,
          instanceId: 'mi-0f1e2d3c4b5a69788',
          credentials: noCliCredentials,
        };
      } else {
        const imds = await startImdsStandIn({
          name: 'web-server-role',
          credentials: noCliCredentials,
        });
        servicesStarted.push(imds);
        servers.noCli = {
          ...noCli,
          instanceId: 'i-0123456789abcdef0',
          credentials: noCliCredentials,
          imds,
        };
      }
    }, 1_800_000);

    afterAll(async () => {
      await Promise.all(containers.map((c) => c.remove()));
      await Promise.all(servicesStarted.map((service) => service.stop()));
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    for (const which of ['cli', 'noCli'] as const) {
      const variantTitle =
        which === 'cli'
          ? 'with the AWS CLI (credentials in /root/.aws/credentials)'
          : d.withoutCli === 'imds'
            ? 'without an AWS CLI (python3; IMDSv2 instance credentials)'
            : 'without an AWS CLI (python3; the mi- node credentials of SSM Agent)';
      describe(variantTitle, () => {
        const server = () => {
          const s = servers[which];
          if (s === undefined) throw new Error('the server did not start (see beforeAll)');
          return s;
        };

        async function run(parameters: Record<string, string>): Promise<Run> {
          const s = server();
          const env: Record<string, string> = {
            PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            AWS_SSM_INSTANCE_ID: s.instanceId,
            AWS_SSM_REGION_NAME: region,
            ...(s.imds === undefined ? {} : { AWS_EC2_METADATA_SERVICE_ENDPOINT: s.imds.endpoint }),
          };
          for (const [name, value] of Object.entries(parameters)) env[`SSM_${name}`] = value;
          const out = await s.container.exec(['sh', '-c', scriptFile], { env, workdir: scriptDir });
          const last = out.stdout.trimEnd().split('\n').at(-1) ?? '';
          let summary: InstallSummary;
          try {
            summary = JSON.parse(last) as InstallSummary;
          } catch {
            throw new Error(`no JSON summary (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
          }
          return { ...out, summary };
        }

        async function install(leaf: TestLeaf, overrides: Record<string, string> = {}) {
          return run(installParameters(leaf, await secretFor(leaf), overrides));
        }

        const identity = (paths = files) => server().container.stat(paths, '%i %Y %s');
        const reloads = async () =>
          (await server().container.sh(`cat ${reloadLogPath} 2>/dev/null || true`))
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => (JSON.parse(l) as { argv: string[] }).argv);
        /** The three files hold `leaf` (the key decrypted, matching it); no temporary left. */
        async function expectInstalled(leaf: TestLeaf) {
          // One exec: each file, then the stray temporary files, separated by NUL bytes.
          const [fullchainText, chainText, keyText, stray] = (
            await server().container.sh(
              'for f; do cat -- "$f"; printf "\\0"; done; ' +
                "find /etc/ssl /tmp -name '.acm-install.*' -o -name 'acm-cert-install.*'",
              files,
            )
          ).split('\0');
          expect(fullchainText).toBe(leaf.certificate + leaf.chain);
          expect(chainText).toBe(leaf.chain);
          expect(keyText).toMatch(/^-----BEGIN PRIVATE KEY-----/);
          const spki = (k: ReturnType<typeof createPublicKey>) =>
            k.export({ type: 'spki', format: 'der' });
          expect(spki(createPublicKey(createPrivateKey(keyText as string)))).toEqual(
            spki(new X509Certificate(leaf.certificate).publicKey),
          );
          expect(stray).toBe('');
        }

        let privateDir: string;
        let older: TestLeaf;
        let newer: TestLeaf;
        let newest: TestLeaf;

        it('runs on the release: its openssl, python3, and the AWS CLI or none', async () => {
          const c = server().container;
          const openssl = (await c.sh('openssl version')).trim();
          const python = (await c.sh('python3 --version')).trim();
          const aws = await c.exec(['sh', '-c', 'aws --version']);
          expect(openssl).toMatch(d.openssl);
          expect(python).toMatch(/^Python 3\.\d+/);
          if (which === 'cli') expect(aws.code, aws.stderr).toBe(0);
          else expect(aws.code).toBe(127);
          console.log(
            `${d.codename} (${which === 'cli' ? 'AWS CLI' : 'no AWS CLI'}): ${openssl}; ${python}; ${
              which === 'cli' ? `${aws.stdout}${aws.stderr}`.trim() : 'aws: not installed'
            }`,
          );
          privateDir = (await c.stat(['/etc/ssl/private']))['/etc/ssl/private'] ?? '';
          expect(privateDir).toMatch(/^root:root 7[01]0$/);
        });

        it('first install: the three files with their modes and owner, the secret read with the server credentials', async () => {
          const s = server();
          newer = await leafBorn(2);
          const out = await install(newer);
          expect(out.code, out.stderr).toBe(0);
          expect(out.summary).toMatchObject({ outcome: 'installed', files, reloaded: false });
          await expectInstalled(newer);
          expect(await s.container.stat([...files, ...dirs])).toEqual({
            [fullchain]: 'root:root 644',
            [chain]: 'root:root 644',
            [key]: 'root:root 600',
            '/etc/ssl/certs': 'root:root 755',
            '/etc/ssl/private': privateDir,
          });
          // Read once, through Secrets Manager's public name, signed (as AWS checks it) with
          // this server's own credentials.
          expect(s.sigv4.requests).toMatchObject([
            {
              target: 'secretsmanager.GetSecretValue',
              accessKeyId: s.credentials.accessKeyId,
              sessionToken: s.credentials.sessionToken,
              signatureValid: true,
              answer: 'forwarded',
            },
          ]);
          if (s.imds !== undefined) {
            expect(s.imds.requests[0]).toEqual({ line: 'PUT /latest/api/token', token: false });
            expect(s.imds.requests.length).toBeGreaterThan(1);
            expect(s.imds.requests.slice(1).every((r) => r.token)).toBe(true);
          }
        });

        it('an unchanged re-run changes nothing and does not reload', async () => {
          const before = await identity();
          const out = await install(newer, { ReloadCommand: reloadOk });
          expect(out.code, out.stderr).toBe(0);
          expect(out.summary).toMatchObject({ outcome: 'unchanged', files: [], reloaded: false });
          expect(await identity()).toEqual(before);
          expect(await reloads()).toEqual([]);
        });

        it('a downgrade is refused (exit 13) and leaves the files as they are', async () => {
          older = await leafBorn(5);
          const before = await identity();
          const out = await install(older);
          expect(out.code, out.stderr).toBe(13);
          expect(out.summary).toMatchObject({ outcome: 'downgrade-refused', files: [] });
          expect(await identity()).toEqual(before);
          await expectInstalled(newer);
        });

        it('a newer certificate replaces the files and runs the allow-listed reload', async () => {
          newest = await leafBorn(1);
          const out = await install(newest, { ReloadCommand: reloadOk });
          expect(out.code, out.stderr).toBe(0);
          expect(out.summary).toMatchObject({ outcome: 'installed', files, reloaded: true });
          await expectInstalled(newest);
          expect(await reloads()).toEqual([[reloadOk]]);
        });

        it('a failing reload is rolled back (exit 14): the previous files, same inodes', async () => {
          const before = await identity();
          const out = await install(await leafBorn(0.5), { ReloadCommand: reloadFail });
          expect(out.code, out.stderr).toBe(14);
          expect(out.summary).toMatchObject({ outcome: 'reload-failed-rolled-back', files: [] });
          expect(await identity()).toEqual(before);
          await expectInstalled(newest);
          expect((await reloads()).at(-1)).toEqual([reloadFail]);
        });

        it('Owner, Group and KeyMode: www-data:www-data, key 640; the directories keep theirs', async () => {
          const out = await install(newest, {
            Owner: 'www-data',
            Group: 'www-data',
            KeyMode: '640',
          });
          expect(out.code, out.stderr).toBe(0);
          expect(out.summary.outcome).toBe('installed');
          expect(await server().container.stat([...files, ...dirs])).toEqual({
            [fullchain]: 'www-data:www-data 644',
            [chain]: 'www-data:www-data 644',
            [key]: 'www-data:www-data 640',
            '/etc/ssl/certs': 'root:root 755',
            '/etc/ssl/private': privateDir,
          });
          await expectInstalled(newest);
        });

        it('Mode=Verify: verified, then drift once the files were tampered with', async () => {
          const options = { Owner: 'www-data', Group: 'www-data', KeyMode: '640', Mode: 'Verify' };
          // Verify reads no secret: a version that does not exist.
          const params = installParameters(
            newest,
            { secretId: secret.secretId, versionId: randomUUID() },
            options,
          );
          const reads = server().sigv4.requests.length;
          const ok = await run(params);
          expect(ok.code, ok.stderr).toBe(0);
          expect(ok.summary).toMatchObject({ outcome: 'verified', problems: [] });

          await server().container.sh(`chmod 644 ${key} && echo tampered >>${chain}`);
          const drift = await run(params);
          expect(drift.code, drift.stderr).toBe(0);
          expect(drift.summary.outcome).toBe('drift');
          expect(drift.summary.problems).toEqual(['key-mode', 'chain-differs']);
          expect(server().sigv4.requests.length).toBe(reads);
        });

        it("Formats combined,pkcs12: the key's owner and mode, written by this release's openssl", async () => {
          const c = server().container;
          const password = `p12 ${randomBytes(9).toString('base64')}`;
          const options = {
            Owner: 'www-data',
            Group: 'www-data',
            KeyMode: '640',
            Formats: 'combined,pkcs12',
          };
          const out = await run(
            installParameters(newest, await secretFor(newest, password), options),
          );
          expect(out.code, out.stderr).toBe(0);
          expect(out.summary).toMatchObject({
            outcome: 'installed',
            files: [...files, combined, p12],
          });
          // The drift of the step before is repaired too.
          expect(await c.stat([...files, combined, p12, ...dirs])).toEqual({
            [fullchain]: 'www-data:www-data 644',
            [chain]: 'www-data:www-data 644',
            [key]: 'www-data:www-data 640',
            [combined]: 'www-data:www-data 640',
            [p12]: 'www-data:www-data 640',
            '/etc/ssl/certs': 'root:root 755',
            '/etc/ssl/private': privateDir,
          });
          await expectInstalled(newest);
          // Copied here: checked with the project's checks (openssl on this machine) and opened
          // with the release's own openssl; the password in a file, as a server keeps it.
          const copy = await mkdtemp(join(dir, 'formats-'));
          try {
            const passwordFile = join(copy, 'p12.pass');
            await writeFile(passwordFile, password, { mode: 0o600 });
            await c.writeFile('/root/web.p12.pass', password, 0o600);
            const opened = await c.exec([
              'openssl',
              'pkcs12',
              '-in',
              p12,
              '-passin',
              'file:/root/web.p12.pass',
              '-noout',
            ]);
            expect(opened.code, opened.stderr).toBe(0);
            const p12Base64 = await c.sh('base64 -w0 -- "$1"', [p12]);
            await writeFile(join(copy, 'web.p12'), Buffer.from(p12Base64, 'base64'));
            await writeFile(join(copy, 'web-combined.pem'), await c.sh('cat -- "$1"', [combined]));
            await expectP12Of(join(copy, 'web.p12'), passwordFile, newest, 'modern');
            await expectCombinedOf(join(copy, 'web-combined.pem'), newest);
          } finally {
            await rm(copy, { recursive: true, force: true });
          }
          const verified = await run(
            installParameters(
              newest,
              { secretId: secret.secretId, versionId: randomUUID() },
              {
                ...options,
                Mode: 'Verify',
              },
            ),
          );
          expect(verified.summary).toMatchObject({ outcome: 'verified', problems: [] });
        });
      });
    }
  });
}
