import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { startAwsProxy } from '../local/aws-proxy/aws-proxy.ts';
import { freeLoopbackPort } from '../local/moto/moto-server.ts';
import { repoRoot } from '../local/paths.ts';
import { createAuthToken } from '../service/src/auth/token-client.ts';
import type { BenchSystem } from './bench-system.ts';
import { percentile, round } from './stats.ts';

interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly statuses: Record<string, number>;
}

/** Closed-loop load: `concurrency` keep-alive clients sending back to back for `seconds`. */
async function load(
  url: string,
  options: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    seconds: number;
    concurrency: number;
  },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const target = new URL(url);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const end = performance.now() + options.seconds * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t = performance.now();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: options.method,
          headers: options.headers,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - t);
            statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses,
  };
}

/**
 * The API in its own process (the real entry point, worker off) with STS authentication against
 * the emulator through a counting proxy: authenticated POST /export-cert against the
 * unauthenticated no-op /healthz in the same run.
 */
export async function measureApi(system: BenchSystem, seconds: number, concurrency: number) {
  const sts = await startAwsProxy({ target: system.moto.endpoint });
  await system.clients.iam.send(new CreateUserCommand({ UserName: 'bench' }));
  const { AccessKey } = await system.clients.iam.send(
    new CreateAccessKeyCommand({ UserName: 'bench' }),
  );
  const port = await freeLoopbackPort();
  const api: ChildProcess = spawn(process.execPath, ['service/src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...system.serviceEnv,
      WORKER_ENABLED: 'false',
      HOST: '127.0.0.1',
      PORT: String(port),
      AUTH_MODE: 'sts',
      AUTH_STS_ENDPOINT: sts.endpoint,
      AUTH_PRINCIPALS: JSON.stringify([
        {
          principal: 'arn:aws:iam::123456789012:user/bench',
          actions: ['read', 'deploy'],
          targets: ['env=bench-*'],
        },
      ]),
    },
    stdio: 'ignore',
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        // starting
      }
      if (i > 100) throw new Error('the API did not start');
      await sleep(100);
    }
    const token = await createAuthToken({
      credentials: {
        accessKeyId: AccessKey?.AccessKeyId ?? '',
        secretAccessKey: AccessKey?.SecretAccessKey ?? '',
      },
      stsEndpoint: sts.endpoint,
      region: 'us-east-1',
      audience: 'acm-cert-export',
    });
    const body = JSON.stringify({
      CertificateArn: system.certificateArn,
      CertName: 'api-bench',
      TargetTagKey: 'env',
      TargetTagValue: 'bench-api',
    });
    sts.reset();
    const noop = await load(`${base}/healthz`, {
      method: 'GET',
      headers: {},
      seconds,
      concurrency,
    });
    const deploy = await load(`${base}/export-cert`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body,
      seconds,
      concurrency,
    });
    // Authenticated, then refused by validation: the cost of authentication without the
    // emulator's queue and table on the path.
    const authOnly = await load(`${base}/export-cert`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: '{}',
      seconds,
      concurrency,
    });
    const stsCalls = [...sts.counts.entries()]
      .filter(([op]) => op.includes('GetCallerIdentity'))
      .reduce((a, [, n]) => a + n, 0);
    return [
      {
        figure: 'api_noop_healthz',
        value: round(noop.rps, 1),
        unit: 'requests per second',
        p99_ms: round(noop.p99, 2),
        p50_ms: round(noop.p50, 2),
        requests: noop.requests,
        statuses: noop.statuses,
      },
      {
        figure: 'api_authenticated_export_cert',
        value: round(deploy.rps, 1),
        unit: 'requests per second',
        p99_ms: round(deploy.p99, 2),
        p50_ms: round(deploy.p50, 2),
        requests: deploy.requests,
        statuses: deploy.statuses,
      },
      {
        figure: 'api_authenticated_invalid_body',
        value: round(authOnly.rps, 1),
        unit: 'requests per second',
        p99_ms: round(authOnly.p99, 2),
        p50_ms: round(authOnly.p50, 2),
        requests: authOnly.requests,
        statuses: authOnly.statuses,
      },
      {
        figure: 'api_authenticated_to_noop_rps_ratio',
        value: round(deploy.rps / noop.rps, 3),
        without_queue_and_table: round(authOnly.rps / noop.rps, 3),
      },
      {
        figure: 'sts_calls_per_distinct_token',
        value: stsCalls,
        distinct_tokens: 1,
        target_max: 1,
      },
    ];
  } finally {
    api.kill('SIGTERM');
    await once(api, 'exit');
    await sts.stop();
  }
}
