/**
 * The API process's memory under the soak's mix of requests (issue 16, point 4): the production
 * bundle started as the image starts it (memory-bench.ts `startService`), worker off, with the
 * 1-GB task's V8 heap (`taskHeapFlags`) and STS authentication against the bed, as the soak runs
 * its API process; it serves rounds of requests in the soak's proportions (traffic.ts `weights`:
 * signed POST /v1/deployments and /export-cert with an Idempotency-Key, some sent again with the
 * same key, GETs of certificates, targets and deployments, DELETE of mappings). After each round
 * it is sampled through the inspector: RSS, heap used as V8 left it, new space (young
 * generation) size and use, old space, the garbage collections so far (scavenges and the others),
 * then — unless `--gc-at-end-only` — heap used and RSS after a forced full GC. With
 * `--snapshots`, heap snapshots after the first and the last round compared by constructor.
 *
 * `node bench/api-memory-bench.ts [--rounds 8] [--per-round 300] [--concurrency 2] [--rate R]
 *   [--gc-at-end-only] [--snapshots]` — one JSON line per sample. `--rate R` starts R operations
 * a second, `--per-round` of them a round (a duplicate is a second request; the soak's API gets
 * ~1.1–1.5 requests a second); without it `--concurrency` clients send `--per-round` requests
 * back to back. The pace matters: V8 sizes the young generation by the allocation rate (small
 * semi-spaces at a slow pace, up to the 16-MB maximum under a burst, shrunk again later).
 * A heap snapshot costs ~150 MB of RSS that stays: after `--snapshots`, only the heap figures
 * mean anything.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { emulatorAccount } from '../local/stack-env.ts';
import { buildService } from '../service/build.ts';
import { createAuthToken } from '../service/src/auth/token-client.ts';
import { startBenchSystem } from './bench-system.ts';
import { byConstructor } from './heap-snapshot.ts';
import { anonymousMb, type HeapUsage, inspector, startService } from './memory-bench.ts';
import { residentMb } from './process-bench.ts';
import { taskHeapFlags } from './soak/resources.ts';
import { round } from './stats.ts';

type ApiOperation = 'deploy-api' | 'deploy-export-cert' | 'read' | 'stop-managing';

/** The API's share of the soak's mix (bench/soak/traffic.ts `weights`). */
const apiWeights: Readonly<Record<ApiOperation, number>> = {
  'deploy-api': 3,
  'deploy-export-cert': 1,
  read: 2.5,
  'stop-managing': 0.3,
};

/** The soak sends a request a second time (same Idempotency-Key) this often. */
const duplicateRate = 0.2;

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

function pick<T extends string>(weights: Readonly<Record<T, number>>): T {
  const entries = Object.entries(weights) as [T, number][];
  let x = Math.random() * entries.reduce((a, [, w]) => a + w, 0);
  for (const [k, w] of entries) {
    x -= w;
    if (x <= 0) return k;
  }
  return (entries.at(-1) as [T, number])[0];
}

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '8' },
      'per-round': { type: 'string', default: '300' },
      concurrency: { type: 'string', default: '2' },
      rate: { type: 'string' },
      'gc-at-end-only': { type: 'boolean', default: false },
      snapshots: { type: 'boolean', default: false },
    },
  });
  const rounds = Number(values.rounds);
  const perRound = Number(values['per-round']);
  const concurrency = Number(values.concurrency);
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  const gcEachRound = !values['gc-at-end-only'];
  const system = await startBenchSystem({});
  const app = mkdtempSync(join(tmpdir(), 'acm-cert-export-api-memory-'));
  let stop: (() => void) | undefined;
  try {
    await system.clients.iam.send(new CreateUserCommand({ UserName: 'bench' }));
    const { AccessKey } = await system.clients.iam.send(
      new CreateAccessKeyCommand({ UserName: 'bench' }),
    );
    await buildService(join(app, 'dist'));
    // As the soak's API process: worker off, STS authentication on the bed, no metrics server.
    const apiSystem = {
      ...system,
      serviceEnv: {
        ...system.serviceEnv,
        WORKER_ENABLED: 'false',
        METRICS_ENABLED: 'false',
        AUTH_MODE: 'sts',
        AUTH_STS_ENDPOINT: system.moto.endpoint,
        AUTH_PRINCIPALS: JSON.stringify([
          {
            principal: `arn:aws:iam::${emulatorAccount}:user/bench`,
            actions: ['read', 'deploy'],
            targets: ['env=bench-*'],
          },
        ]),
      },
    };
    const started = await startService(app, apiSystem, undefined, false, taskHeapFlags, undefined);
    stop = () => started.child.kill('SIGKILL');
    const pid = started.pid;
    const port = started.port;
    const session = await inspector(started.inspectorUrl);
    await session.countGc();

    // A token as the soak's traffic keeps one: a new one every 120 s (each costs one STS call).
    let token: { value: string; at: number } | undefined;
    const authorization = async () => {
      if (token === undefined || Date.now() - token.at > 120_000) {
        const value = await createAuthToken({
          credentials: {
            accessKeyId: AccessKey?.AccessKeyId ?? '',
            secretAccessKey: AccessKey?.SecretAccessKey ?? '',
          },
          stsEndpoint: system.moto.endpoint,
          region: 'us-east-1',
          audience: 'acm-cert-export',
        });
        token = { value, at: Date.now() };
      }
      return token.value;
    };
    const jobs: string[] = [];
    const statuses: Record<string, number> = {};
    const call = async (method: string, path: string, body?: unknown, key?: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: {
          authorization: await authorization(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      const k = `${method} ${path.split('/')[1] === 'v1' ? `/v1/${path.split('/')[2]}` : path} ${response.status}`;
      statuses[k] = (statuses[k] ?? 0) + 1;
      return { status: response.status, text };
    };
    let served = 0;
    const mapping = () => {
      const n = Math.floor(Math.random() * 40);
      return {
        certificateArn: system.certificateArn,
        certName: `api-${n % 3}`,
        target: { key: 'env', value: `bench-api-${n}` },
      };
    };
    const one = async (): Promise<number> => {
      const op = pick(apiWeights);
      const m = mapping();
      if (op === 'deploy-api' || op === 'deploy-export-cert') {
        const path = op === 'deploy-api' ? '/v1/deployments' : '/export-cert';
        const body =
          op === 'deploy-api'
            ? m
            : {
                CertificateArn: m.certificateArn,
                CertName: m.certName,
                TargetTagKey: m.target.key,
                TargetTagValue: m.target.value,
              };
        const key = randomUUID();
        const times = Math.random() < duplicateRate ? 2 : 1;
        for (let i = 0; i < times; i++) {
          const { text } = await call('POST', path, body, key);
          const jobId = (JSON.parse(text) as { jobId?: unknown }).jobId;
          if (i === 0 && typeof jobId === 'string') jobs.push(jobId);
        }
        return times;
      }
      if (op === 'stop-managing') {
        await call(
          'DELETE',
          `/v1/certificates/${encodeURIComponent(m.certificateArn)}/targets/${m.target.key}/${m.target.value}/${m.certName}`,
        );
        return 1;
      }
      const job = jobs.length === 0 ? undefined : jobs[Math.floor(Math.random() * jobs.length)];
      const arn = encodeURIComponent(system.certificateArn);
      const paths = [
        '/v1/certificates',
        `/v1/certificates/${arn}/targets`,
        `/v1/certificates/${arn}/deployments`,
        ...(job === undefined ? [] : [`/v1/deployments/${job}`, `/v1/deployments/${job}/servers`]),
      ];
      await call('GET', paths[Math.floor(Math.random() * paths.length)] as string);
      return 1;
    };
    const serveRound = async () => {
      const goal = served + perRound;
      if (rate !== undefined) {
        // `perRound` operations started at `rate` a second (a duplicate is a second request).
        const t0 = performance.now();
        const running: Promise<void>[] = [];
        for (let sent = 0; sent < perRound; sent++) {
          const wait = t0 + (sent / rate) * 1000 - performance.now();
          if (wait > 0) await sleep(wait);
          running.push(
            one().then((n) => {
              served += n;
            }),
          );
        }
        await Promise.all(running);
        return;
      }
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (served < goal) served += await one();
        }),
      );
    };

    const sample = async (label: string, gc: boolean) => {
      const rss = residentMb(pid);
      const left: HeapUsage = await session.usage(false);
      const gcs = await session.gcTotals();
      const after = gc ? await session.usage(true) : undefined;
      const line = {
        sample: label,
        requests: served,
        rss_mb: round(rss, 1),
        heap_used_as_left_mb: mb(left.heapUsed),
        heap_total_as_left_mb: mb(left.heapTotal),
        new_space_mb: mb(left.spaces.new_space ?? 0),
        new_space_used_mb: mb(left.spacesUsed.new_space ?? 0),
        old_space_mb: mb(left.spaces.old_space ?? 0),
        old_space_used_mb: mb(left.spacesUsed.old_space ?? 0),
        external_as_left_mb: mb(left.external),
        array_buffers_as_left_mb: mb(left.arrayBuffers),
        scavenges: gcs.scavenges,
        other_gcs: gcs.count - gcs.scavenges,
        ...(after === undefined
          ? {}
          : {
              heap_used_after_gc_mb: mb(after.heapUsed),
              rss_after_gc_mb: round(residentMb(pid), 1),
              external_after_gc_mb: mb(after.external),
            }),
        anonymous_mb: round(anonymousMb(pid), 1),
        node_flags: taskHeapFlags.join(' '),
        pace: rate === undefined ? `${concurrency} clients back to back` : `${rate} requests/s`,
        load_1m: round(loadavg()[0] ?? 0, 2),
        cpus: cpus().length,
      };
      console.log(JSON.stringify(line));
    };

    await sleep(5000);
    await sample('started', false);
    let first: Map<string, { count: number; bytes: number }> | undefined;
    for (let r = 1; r <= rounds; r++) {
      const t0 = performance.now();
      await serveRound();
      const seconds = round((performance.now() - t0) / 1000, 1);
      console.error(`round ${r}: ${served} requests served so far, round in ${seconds} s`);
      await sample(`after round ${r}`, gcEachRound || r === rounds);
      if (values.snapshots && (r === 1 || r === rounds)) {
        const counts = byConstructor(await session.snapshot());
        if (r === 1) first = counts;
        else if (first !== undefined) {
          const rows = [...new Set([...first.keys(), ...counts.keys()])]
            .map((k) => {
              const a = first?.get(k) ?? { count: 0, bytes: 0 };
              const b = counts.get(k) ?? { count: 0, bytes: 0 };
              return { what: k, count: b.count - a.count, bytes: b.bytes - a.bytes };
            })
            .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes))
            .slice(0, 20);
          const sum = (m: Map<string, { bytes: number }>) =>
            [...m.values()].reduce((n, e) => n + e.bytes, 0);
          console.log(
            JSON.stringify({
              heap_snapshot_diff: `round 1 → round ${rounds} (${(rounds - 1) * perRound} requests)`,
              snapshot_mb: [mb(sum(first)), mb(sum(counts))],
            }),
          );
          for (const row of rows) console.log(JSON.stringify(row));
        }
      }
    }
    console.log(JSON.stringify({ statuses }));
    session.close();
  } finally {
    stop?.();
    await sleep(500);
    rmSync(app, { recursive: true, force: true });
    await system.stop();
  }
}

if (import.meta.main) await main();
