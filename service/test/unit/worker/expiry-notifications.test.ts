import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { adapterOf } from '../../../src/adapters/lazy-port.ts';
import { LogOnlyNotifier } from '../../../src/adapters/log-only-notifier.ts';
import { SnsNotifier } from '../../../src/adapters/sns-notifier.ts';
import { createAwsClients } from '../../../src/aws/clients.ts';
import { buildPorts, buildWorkerDeps } from '../../../src/composition.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { TerminalError } from '../../../src/domain/errors.ts';
import type { InstalledServer } from '../../../src/domain/installed-server.ts';
import type { Mapping } from '../../../src/domain/mapping.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { listedServersAtMost } from '../../../src/worker/expiry-notification.ts';
import { installedMinDaysToExpiryMetric } from '../../../src/worker/metrics.ts';
import { route } from '../../../src/worker/router.ts';
import type { FakeNotifier } from '../../support/fakes/notifier.ts';
import { arnA, workerWorld } from '../../support/worker-world.ts';

// The daily expiry check's notifications: one per mapping with a server whose copy expires
// within EXPIRY_NOTIFY_DAYS (14 here), or a server still on an older serial RENEWAL_GRACE_HOURS
// (24 here) after the export.

type Line = Record<string, unknown> & { level: string; msg: string };
type World = ReturnType<typeof workerWorld>;

const hour = 3_600_000;
const day = 24 * hour;
const current = '0a:1b:2c';
const older = '09:99:99';
const check = { type: 'expiry-check', version: 1, scheduledTime: '2026-11-27T06:00:00Z' };

const at = (w: World, ms: number) => new Date(w.clock.now().getTime() + ms).toISOString();

function aMapping(w: World, overrides: Partial<Mapping> = {}): Mapping {
  return {
    certificateArn: arnA,
    certName: 'web',
    target: { key: 'env', value: 'prod' },
    install: {},
    serial: current,
    notAfter: at(w, 200 * day),
    lastExportedAt: at(w, -2 * hour),
    lastJobId: 'job-00000009',
    lastOutcome: 'Succeeded',
    secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:acm-passphrase/web-AbCdEf',
    secretVersionId: 'v-secret-version',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

function aServer(w: World, instanceId: string, o: Partial<InstalledServer> = {}): InstalledServer {
  return {
    instanceId,
    serial: current,
    notAfter: at(w, 200 * day),
    lastStatus: 'Success',
    lastOutcome: 'installed',
    lastJobId: 'job-00000009',
    updatedAt: at(w, -2 * hour),
    ...o,
  };
}

/** A mapping whose servers hold these copies; each server a managed node carrying the tag. */
async function withServers(w: World, m: Mapping, servers: InstalledServer[]) {
  await w.mappings.put(m);
  await w.servers.recordInstalled(m, servers);
  for (const s of servers) {
    w.commands.online(s.instanceId);
    w.commands.tag(s.instanceId, { [m.target.key]: m.target.value });
  }
}

const published = (w: World) => (w.notifier as FakeNotifier).published;
const lines = (w: World) => w.logLines.map((l) => JSON.parse(l) as Line);
const minMetric = (w: World) =>
  lines(w)
    .filter((l) => installedMinDaysToExpiryMetric in l)
    .map((l) => l[installedMinDaysToExpiryMetric]);

describe('expiry notifications', () => {
  it('name the one server whose copy expires soon, with its days, in one notification', async () => {
    const w = workerWorld();
    await withServers(w, aMapping(w), [
      aServer(w, 'i-0aaa'),
      aServer(w, 'i-0bbb', {
        // as the server's install script reports it (openssl's form); shown as ACM's
        serial: older.replace(/:/g, '').toUpperCase(),
        notAfter: at(w, 9 * day + hour),
        lastJobId: 'job-7',
      }),
    ]);
    expect(await w.deliver(check)).toEqual({ kind: 'ack' });

    expect(published(w)).toHaveLength(1);
    const [n] = published(w);
    expect(n?.subject).toBe('acm-cert-export: expires in 9 days on 1 server - web (env=prod)');
    expect(n?.attributes).toEqual({
      kind: ['expiring'],
      certificateArn: arnA,
      certName: 'web',
      target: 'env=prod',
      servers: 1,
      minDaysToExpiry: 9,
      notificationId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(n?.message).toContain(`Certificate: ${arnA}`);
    expect(n?.message).toContain('Name:        web');
    expect(n?.message).toContain('Target:      env=prod');
    expect(n?.message).toContain(
      'EXPIRING: the copy installed on 1 server expires in fewer than 14 days:',
    );
    expect(n?.message).toMatch(
      /i-0bbb: expires in 9 days \(not after .+\), serial 09:99:99, last job job-7/,
    );
    expect(n?.message).not.toContain('i-0aaa');
    expect(n?.message).toContain('What to do:');
    expect(n?.message).toContain(
      `acm-cert-export reconcile --cert-arn ${arnA} --name web --target env=prod`,
    );
    // The alarm sees the server's copy, not only the mapping's record (200 days).
    expect(minMetric(w)).toEqual([9]);
    expect(lines(w).find((l) => l.target === 'env=prod')).toMatchObject({
      level: 'warn',
      daysToExpiry: 9,
      soonestServer: 'i-0bbb',
      expiringServers: 1,
    });
  });

  it('report a server on an older serial 25 hours after the export', async () => {
    const w = workerWorld();
    await withServers(w, aMapping(w, { lastExportedAt: at(w, -25 * hour) }), [
      aServer(w, 'i-0aaa'),
      aServer(w, 'i-0ccc', { serial: older, notAfter: at(w, 60 * day), lastStatus: 'Failed' }),
    ]);
    await w.deliver(check);

    expect(published(w)).toHaveLength(1);
    const [n] = published(w);
    expect(n?.subject).toBe('acm-cert-export: 1 server missed the renewal - web (env=prod)');
    expect(n?.attributes).toMatchObject({ kind: ['behind'], servers: 1 });
    expect(n?.attributes).not.toHaveProperty('minDaysToExpiry');
    expect(n?.message).toContain(`MISSED THE RENEWAL: serial ${current} was exported 25 hours ago`);
    expect(n?.message).toMatch(
      /i-0ccc: serial 09:99:99, last job job-00000009 \(Failed, installed\)/,
    );
    expect(n?.message).toContain('check its SSM Agent');
    expect(n?.message).not.toContain('i-0aaa');
  });

  it('wait 24 hours before reporting a server that has not taken the renewal yet', async () => {
    const w = workerWorld();
    await withServers(w, aMapping(w, { lastExportedAt: at(w, -23 * hour) }), [
      aServer(w, 'i-0ccc', { serial: older, notAfter: at(w, 60 * day) }),
    ]);
    expect(await w.deliver(check)).toEqual({ kind: 'ack' });
    expect(published(w)).toEqual([]);
  });

  it('say nothing when every server holds the current serial, far from expiry', async () => {
    const w = workerWorld();
    await withServers(w, aMapping(w, { lastExportedAt: at(w, -30 * day) }), [
      aServer(w, 'i-0aaa'),
      aServer(w, 'i-0bbb'),
    ]);
    await w.deliver(check);
    expect(published(w)).toEqual([]);
    expect(minMetric(w)).toEqual([200]);
    expect(lines(w).find((l) => l.target === 'env=prod')).toMatchObject({ level: 'info' });
  });

  it('put both problems of a mapping in its one notification', async () => {
    const w = workerWorld();
    await withServers(w, aMapping(w, { lastExportedAt: at(w, -3 * day) }), [
      aServer(w, 'i-0aaa', { serial: older, notAfter: at(w, -2 * day - hour) }),
      aServer(w, 'i-0bbb', { serial: older, notAfter: at(w, 40 * day) }),
    ]);
    await w.deliver(check);
    expect(published(w)).toHaveLength(1);
    const [n] = published(w);
    expect(n?.subject).toBe(
      'acm-cert-export: expired 3 days ago on 1 server, 2 servers missed the renewal - web (env=prod)',
    );
    expect(n?.attributes).toMatchObject({ kind: ['expiring', 'behind'], servers: 2 });
    expect(n?.attributes.minDaysToExpiry).toBe(-3);
    expect(n?.message).toContain(`serial ${current} was exported 3 days ago`);
  });

  it('leave out servers that are no longer managed nodes with the tag (stopped, terminated, retagged)', async () => {
    const w = workerWorld();
    await withServers(w, aMapping(w, { lastExportedAt: at(w, -3 * day) }), [
      aServer(w, 'i-0aaa'),
      aServer(w, 'i-0gone', { serial: older, notAfter: at(w, 5 * day) }),
    ]);
    w.commands.nodes.delete('i-0gone');
    await w.deliver(check);
    expect(published(w)).toEqual([]);
    expect(minMetric(w)).toEqual([200]);
  });

  it('still report, with a note, when the managed nodes cannot be read for good', async () => {
    const w = workerWorld();
    await withServers(w, aMapping(w), [
      aServer(w, 'i-0bbb', { serial: older, notAfter: at(w, 5 * day) }),
    ]);
    w.commands.managedNodesTagged = async () => {
      throw new TerminalError('AccessDenied', 'SSM DescribeInstanceInformation: access denied');
    };
    await w.deliver(check);
    expect(published(w)).toHaveLength(1);
    expect(published(w)[0]?.message).toContain('managed-node inventory could not be read');
  });

  it('list at most 20 servers per problem and count the rest', async () => {
    const w = workerWorld();
    const servers = Array.from({ length: listedServersAtMost + 5 }, (_, i) =>
      aServer(w, `i-${String(i).padStart(4, '0')}`, { notAfter: at(w, 3 * day + hour) }),
    );
    await withServers(w, aMapping(w), servers);
    await w.deliver(check);
    const message = published(w)[0]?.message ?? '';
    expect(message.match(/^ {2}i-\d{4}: /gm)).toHaveLength(listedServersAtMost);
    expect(message).toContain('  ... and 5 more servers');
    expect(published(w)[0]?.attributes.servers).toBe(listedServersAtMost + 5);
  });

  it('notify a mapping without per-server records from its last deployment’s copy', async () => {
    const w = workerWorld();
    await w.mappings.put(aMapping(w, { notAfter: at(w, 10 * day + hour) }));
    await w.deliver(check);
    expect(published(w)).toHaveLength(1);
    expect(published(w)[0]?.subject).toBe('acm-cert-export: expires in 10 days - web (env=prod)');
    expect(published(w)[0]?.message).toContain('No server carrying the tag records it');
    expect(published(w)[0]?.attributes).toMatchObject({ servers: 0, minDaysToExpiry: 10 });
  });

  it('keep the subject ASCII and under 100 characters, and the message free of secrets', async () => {
    const w = workerWorld();
    const m = aMapping(w, {
      certName: 'a-very-long-certificate-name-for-the-shop-frontend-and-its-many-friends',
      target: { key: 'env', value: 'prodüction-with-a-long-value' },
    });
    await withServers(w, m, [aServer(w, 'i-0bbb', { notAfter: at(w, 2 * day) })]);
    await w.deliver(check);
    const [n] = published(w);
    expect(n?.subject.length).toBeLessThan(100);
    expect(n?.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(n?.subject).toMatch(/^acm-cert-export: expires in 2 days on 1 server - a-very-long/);
    expect(n?.subject.endsWith('...')).toBe(true);
    expect(n?.message).not.toContain(m.secretArn as string);
    expect(n?.message).not.toContain(m.secretVersionId as string);
    expect(JSON.stringify(n?.attributes)).not.toContain('secret');
  });

  it('give a retry of the same run the same notification id, and another run another', async () => {
    const ids: string[] = [];
    for (const scheduledTime of [
      '2026-11-27T06:00:00Z',
      '2026-11-27T06:00:00Z',
      '2026-11-28T06:00:00Z',
    ]) {
      const w = workerWorld();
      await withServers(w, aMapping(w), [aServer(w, 'i-0bbb', { notAfter: at(w, 2 * day) })]);
      await w.deliver({ ...check, scheduledTime });
      ids.push(String(published(w)[0]?.attributes.notificationId));
    }
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });
});

describe('publishing the notifications', () => {
  async function twoProblems() {
    const w = workerWorld();
    for (const value of ['prod', 'stage']) {
      const m = aMapping(w, { target: { key: 'env', value } });
      await withServers(w, m, [aServer(w, `i-${value}`, { notAfter: at(w, 2 * day) })]);
    }
    return w;
  }

  it('goes on after a refused one (terminal), logs it, and acknowledges the run', async () => {
    const w = await twoProblems();
    (w.notifier as FakeNotifier).failNext = [
      new TerminalError('AccessDenied', 'SNS AuthorizationErrorException publishing to arn:x'),
    ];
    expect(await w.deliver(check)).toEqual({ kind: 'ack' });
    expect(published(w)).toHaveLength(1);
    expect(lines(w).find((l) => /notification refused/.test(l.msg))).toMatchObject({
      level: 'error',
    });
    expect(lines(w).find((l) => /expiry check done/.test(l.msg))).toMatchObject({
      notifications: { due: 2, published: 1, refused: 1 },
    });
  });

  it('retries the run with backoff after a retryable failure, the metrics written all the same', async () => {
    const w = await twoProblems();
    (w.notifier as FakeNotifier).failNext = [
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' }),
    ];
    expect(await w.deliver(check, 'm', 1)).toEqual({
      kind: 'later',
      delaySeconds: 2,
      why: 'expiry check failed',
    });
    expect(minMetric(w)).toEqual([2]);
    (w.notifier as FakeNotifier).failNext = [new Error('still down')];
    expect(await w.deliver(check, 'm', 3)).toEqual({
      kind: 'dead-letter',
      reason: 'expiry check failed 3 times: still down',
    });
  });

  it('publishes nothing when the walk itself fails (the retry walks again)', async () => {
    const w = await twoProblems();
    w.servers.installed = async () => {
      throw new Error('dynamodb unavailable');
    };
    expect((await w.deliver(check, 'm', 1)).kind).toBe('later');
    expect(published(w)).toEqual([]);
  });
});

describe('without a topic', () => {
  const base = {
    AWS_REGION: 'us-east-1',
    QUEUE_URL: 'http://127.0.0.1:5000/123456789012/jobs',
    DLQ_URL: 'http://127.0.0.1:5000/123456789012/jobs-dlq',
  };

  function compose(env: Record<string, string>) {
    const logLines: string[] = [];
    const logger = createLogger(
      'debug',
      new Writable({
        write(chunk, _e, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    );
    const config = loadConfig({ ...base, ...env });
    const clients = createAwsClients(config.aws);
    const deps = buildWorkerDeps(config, buildPorts(config, clients), logger);
    clients.destroy();
    return { deps, logged: logLines.map((l) => JSON.parse(l) as Line) };
  }

  it('says so once at start, and the worker only logs its notifications', async () => {
    const { deps, logged } = compose({});
    expect(deps.notifier).toBeInstanceOf(LogOnlyNotifier);
    expect(logged.filter((l) => /NOTIFY_TOPIC_ARN is unset/.test(l.msg))).toHaveLength(1);

    const w = workerWorld();
    const logOnly = { ...w.deps, notifier: new LogOnlyNotifier(w.logger) };
    await withServers(w, aMapping(w), [aServer(w, 'i-0bbb', { notAfter: at(w, 2 * day) })]);
    const outcome = await route(
      {
        messageId: 'm',
        receiveCount: 1,
        body: JSON.stringify(check),
        signal: new AbortController().signal,
      },
      logOnly,
    );
    expect(outcome).toEqual({ kind: 'ack' });
    expect(lines(w).find((l) => /logged only/.test(l.msg))).toMatchObject({
      level: 'warn',
      msg: 'notification (logged only, no NOTIFY_TOPIC_ARN): acm-cert-export: expires in 2 days on 1 server - web (env=prod)',
      notification: { attributes: { kind: ['expiring'], servers: 1 } },
    });
    expect(lines(w).find((l) => /expiry check done/.test(l.msg))).toMatchObject({
      notifications: { due: 1, published: 1, refused: 0 },
    });
  });

  it('publishes to the topic when NOTIFY_TOPIC_ARN names one', async () => {
    const { deps, logged } = compose({
      NOTIFY_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:AlarmsTopic3A2DFEBA',
    });
    // Loaded on first use (composition.ts): the adapter behind the port.
    expect(await adapterOf(deps.notifier)).toBeInstanceOf(SnsNotifier);
    expect(logged.some((l) => /NOTIFY_TOPIC_ARN/.test(l.msg))).toBe(false);
  });
});
