import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../../../local/moto/moto-server.ts';
import { buildService } from '../../../build.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { finished } from '../worker/helpers.ts';

// The production artifact (npm run build, what the image runs) on the bed: built into a
// directory with no node_modules above it, started as the Dockerfile's CMD starts it, with the
// API and the worker in one process. It answers /readyz, and a deployment through its API goes
// through its worker to the stand-in servers: the job adapters it loads on first use (ACM,
// Secrets Manager, SSM, EC2) load from its own chunks.
let system: RunningSystem;
let dir: string;
let service: ChildProcess | undefined;
let output = '';
let base: string;
let metricsBase: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'acm-cert-export-bundle-'));
  await buildService(join(dir, 'dist'));
  system = await aRunningSystem({ worker: false });
  const port = await freeLoopbackPort();
  base = `http://127.0.0.1:${port}`;
  const metricsPort = await freeLoopbackPort();
  metricsBase = `http://127.0.0.1:${metricsPort}`;
  service = spawn(process.execPath, ['--enable-source-maps', 'dist/main.mjs'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...system.env,
      NODE_ENV: 'production',
      API_ENABLED: 'true',
      WORKER_ENABLED: 'true',
      AUTH_MODE: 'none',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  service.stdout?.on('data', keep);
  service.stderr?.on('data', keep);
});

afterAll(async () => {
  if (service !== undefined && service.exitCode === null && service.signalCode === null) {
    service.kill('SIGKILL');
    await once(service, 'exit');
  }
  await system?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function readyz(): Promise<number> {
  for (let i = 0; i < 600; i++) {
    if (service?.exitCode !== null) throw new Error(`the bundle exited: ${output}`);
    try {
      const res = await fetch(`${base}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return res.status;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`/readyz did not answer 200 within 60 s: ${output}`);
}

describe('the production bundle', () => {
  it('starts and answers /readyz against the bed', async () => {
    expect(await readyz()).toBe(200);
    const res = await fetch(`${base}/readyz`);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: { queue: 'ok', mappings: 'ok', deployments: 'ok' },
    });
  });

  it('deploys a certificate through its API and its worker', async () => {
    const arn = await anExportableCertificate(system.clients.acm);
    const server = await anInstance(system.clients.ec2, { tags: { env: 'bundle' } });
    const res = await fetch(`${base}/v1/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        certificateArn: arn,
        certName: 'bundle',
        target: { key: 'env', value: 'bundle' },
      }),
    });
    const body = (await res.json()) as { jobId: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    const job = await finished(system, body.jobId);
    expect(job.status, output).toBe('Succeeded');
    expect(job.servers.map((s) => s.instanceId)).toEqual([server]);
    // Its own /metrics listener counted it, and the AWS calls of the lazily loaded clients.
    const metrics = await (await fetch(`${metricsBase}/metrics`)).text();
    expect(metrics).toMatch(/^acm_cert_export_deployments_total\{outcome="Succeeded"\} 1$/m);
    expect(metrics).toMatch(
      /^acm_cert_export_aws_calls_total\{service="ACM",operation="ExportCertificate"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^acm_cert_export_queue_lag_seconds_count [1-9]/m);
    // The API's port serves no metrics.
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exited = once(service as ChildProcess, 'exit');
    service?.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code, output).toBe(0);
  });
});
