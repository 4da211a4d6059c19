/**
 * Served, not just installed (issue 15 point 3): a stand-in server that is a real Debian
 * bookworm container (local/servers/images.sh) running Debian's nginx, serving TLS on a loopback
 * port with the files the install script writes. Through the real service flow (the worker in
 * this process, the Run Command stand-in running the script inside the container as root, moto):
 * a deployment with the allow-listed `/usr/sbin/nginx -s reload` makes `openssl s_client` see the
 * deployed serial; a renewal on the bed (RenewCertificate, its event on the job queue) makes it
 * see the new serial; a reload that fails (nginx's configuration broken) is rolled back and nginx
 * goes on serving the previous serial.
 *
 * Needs a container engine (podman, as root); skipped with one line where there is none.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeCertificateCommand, RenewCertificateCommand } from '@aws-sdk/client-acm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EngineService,
  startEngineService,
  whyNoContainerEngine,
} from '../../../../local/run-command/engine-service.ts';
import {
  bookwormImage,
  containerName,
  nginxServerScript,
  removeContainer,
  shIn,
  startContainer,
} from '../../../../local/test/support/server-containers.ts';
import { sameSerial } from '../../../src/worker/certificate-info.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished, jobsStartedBy } from './helpers.ts';

const reloadCommand = '/usr/sbin/nginx -s reload';
const certName = 'web';
const container = containerName('nginx-served');

const skipReason = await whyNoContainerEngine();
if (skipReason !== undefined) console.log(`nginx served test skipped: ${skipReason}`);

let system: RunningSystem;
let engine: EngineService | undefined;
let scratch: string | undefined;
let port = 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The certificate nginx serves now, as `openssl s_client` receives it: its serial (hex). */
async function servedSerial(): Promise<string> {
  const output = await new Promise<string>((resolveRun, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.once('error', reject);
    child.once('close', () => resolveRun(out));
  });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output)?.[0];
  if (pem === undefined) throw new Error(`openssl s_client got no certificate:\n${output}`);
  return new X509Certificate(pem).serialNumber.toLowerCase();
}

async function acmSerial(arn: string): Promise<string> {
  const { Certificate } = await system.clients.acm.send(
    new DescribeCertificateCommand({ CertificateArn: arn }),
  );
  return Certificate?.Serial ?? '';
}

/** Runs `script` with sh in the nginx container, as its administrator would. */
const inContainer = (script: string) => shIn(engine?.cli ?? 'podman', container, script);

describe.skipIf(skipReason !== undefined)('nginx on a Debian server, through the service', () => {
  let arn: string;
  let instanceId: string;
  let firstRenewal: string | undefined;

  beforeAll(async () => {
    // Cached: built once per recipe (bash local/test.sh starts the build in the background).
    const image = await bookwormImage();
    scratch = await mkdtemp(join(tmpdir(), 'nginx-served-'));
    engine = await startEngineService(scratch);
    port = await freePort();
    // nginx serves TLS before the first deployment, as on a real server (nginx-server.sh).
    await startContainer(
      engine.cli,
      container,
      image,
      ['bash', nginxServerScript, certName, `127.0.0.1:${port}`],
      'nginx-served',
    );
    system = await aRunningSystem({
      containerEngine: engine.dockerHost,
      env: { ALLOWED_RELOAD_COMMANDS: JSON.stringify([reloadCommand]) },
    });
    arn = await anExportableCertificate(system.clients.acm);
    instanceId = await anInstance(system.clients.ec2, {
      tags: { env: 'nginx', 'standin:container': container },
    });
  }, 900_000);

  afterAll(async () => {
    await system?.stop();
    await removeContainer(engine?.cli ?? 'podman', container);
    await engine?.stop();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it('serves its placeholder before, the deployed certificate after a deployment', async () => {
    let before = '';
    for (let i = 0; before === '' && i < 100; i++) {
      before = await servedSerial().catch(() => '');
      if (before === '') await sleep(200);
    }
    expect(before, 'nginx did not serve TLS').not.toBe('');
    expect(sameSerial(before, await acmSerial(arn))).toBe(false);

    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-nginx-first',
      certificateArn: arn,
      certName,
      target: { key: 'env', value: 'nginx' },
      install: { reloadCommand },
    });
    const first = await finished(system, 'it-nginx-first', 120_000);
    expect(first.status, first.reason).toBe('Succeeded');
    expect(
      first.servers.map((s) => [s.instanceId, s.summary?.outcome, s.summary?.reloaded]),
    ).toEqual([[instanceId, 'installed', true]]);
    expect(sameSerial(await servedSerial(), await acmSerial(arn))).toBe(true);
    // Installed where nginx reads it, by the script running as root in the container.
    expect(await inContainer(`stat -c '%U %a' /etc/ssl/private/${certName}-privkey.pem`)).toBe(
      'root 600\n',
    );
  });

  it('serves the new serial after a renewal on the bed', async () => {
    const before = await acmSerial(arn);
    await system.clients.acm.send(new RenewCertificateCommand({ CertificateArn: arn }));
    const after = await acmSerial(arn);
    expect(sameSerial(after, before)).toBe(false);
    const [renewalJob] = await jobsStartedBy(system, arn, 'renewal', 1, 60_000);
    expect(renewalJob, 'no renewal job started from the event').toBeDefined();
    firstRenewal = renewalJob;
    const renewal = await finished(system, renewalJob as string, 120_000);
    expect(renewal.status, renewal.reason).toBe('Succeeded');
    expect(renewal.servers.map((s) => s.summary?.outcome)).toEqual(['installed']);
    expect(sameSerial(await servedSerial(), after)).toBe(true);
  });

  it('goes on serving the previous serial when the reload fails, and rolls the files back', async () => {
    const previous = await acmSerial(arn);
    // A configuration nginx refuses: `nginx -s reload` checks it first and exits 1.
    await inContainer("echo 'this is not nginx configuration;' >/etc/nginx/conf.d/broken.conf");
    try {
      await system.clients.acm.send(new RenewCertificateCommand({ CertificateArn: arn }));
      expect(sameSerial(await acmSerial(arn), previous)).toBe(false);
      const jobs = await jobsStartedBy(system, arn, 'renewal', 2, 60_000);
      const renewalJob = jobs.find((id) => id !== firstRenewal);
      expect(renewalJob, 'no second renewal job started from the event').toBeDefined();
      const failed = await finished(system, renewalJob as string, 120_000);
      expect(failed.status, failed.reason).not.toBe('Succeeded');
      expect(failed.servers.map((s) => s.summary?.outcome)).toEqual(['reload-failed-rolled-back']);
      expect(sameSerial(await servedSerial(), previous)).toBe(true);
      const installed = await inContainer(
        `openssl x509 -noout -serial -in /etc/ssl/certs/${certName}-fullchain.pem`,
      );
      expect(
        sameSerial(
          installed
            .trim()
            .replace(/^serial=/, '')
            .toLowerCase(),
          previous,
        ),
      ).toBe(true);
    } finally {
      await inContainer('rm -f /etc/nginx/conf.d/broken.conf');
    }
  });
});
