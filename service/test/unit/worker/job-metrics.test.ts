import { describe, expect, it } from 'vitest';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  progress,
  workerWorld,
} from '../../support/worker-world.ts';

const mapping = { certificateArn: arnA, certName: 'web', target: 'env=dev' };

describe('what a deploy job measures (metrics port)', () => {
  it('each pickup times its step by result, and the end counts the outcome and the mapping', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', []),
      progress('Success', [
        anInvocation({ instanceId: 'i-1' }),
        anInvocation({ instanceId: 'i-2' }),
      ]),
    ];
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    w.clock.advance(90_000);
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });

    expect(w.metrics.steps.map((s) => [s.step, s.result])).toEqual([
      ['lock', 'done'],
      ['export', 'done'],
      ['dispatch', 'done'],
      ['poll', 'waiting'],
      ['poll', 'done'],
      ['finish', 'done'],
    ]);
    for (const s of w.metrics.steps) expect(s.seconds).toBeGreaterThanOrEqual(0);
    // Requested, then finished 90 s later on the manual clock.
    expect(w.metrics.deployments).toEqual([{ outcome: 'Succeeded', seconds: 90 }]);
    const d = await w.deployments.get('job-00000001');
    expect(w.metrics.mappings).toEqual([
      {
        mapping,
        observation: { notAfter: d?.certificate?.notAfter, servers: 2, serversConverged: 2 },
      },
    ]);
  });

  it('a step that fails is timed as an error; a job waiting for the lock times its lock step as waiting', async () => {
    const w = workerWorld();
    w.certificates.failNextExport.push(new Error('socket hang up'));
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    expect(w.metrics.steps.map((s) => [s.step, s.result])).toEqual([
      ['lock', 'done'],
      ['export', 'error'],
    ]);

    const other = workerWorld();
    await other.mappings.acquireLock(
      { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' },
      'job-other',
      new Date(other.clock.now().getTime() + 3_600_000),
      other.clock.now(),
    );
    expect(await other.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    expect(other.metrics.steps.map((s) => [s.step, s.result])).toEqual([['lock', 'waiting']]);
    expect(other.metrics.deployments).toEqual([]);
  });

  it('a first deployment that fails for good forgets its mapping (its series go)', async () => {
    // Not allowed here: terminal, and the mapping it created is abandoned.
    const w = workerWorld({
      allowedCertificateArns: ['arn:aws:acm:us-east-1:123456789012:certificate/other'],
    });
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    expect((await w.deployments.get('job-00000001'))?.status).toBe('Failed');
    expect(w.metrics.forgotten).toEqual([mapping]);
    expect(w.metrics.mappings).toEqual([]);
    expect(w.metrics.deployments.map((x) => x.outcome)).toEqual(['Failed']);
  });

  it("the daily expiry check refreshes every mapping's gauges from the walk it does anyway", async () => {
    const w = workerWorld();
    const notAfter = new Date(w.clock.now().getTime() + 40 * 86_400_000).toISOString();
    const m = {
      certificateArn: arnA,
      certName: 'web',
      target: { key: 'env', value: 'dev' },
      install: {},
      serial: '0a:1b',
      notAfter,
      lastOutcome: 'Succeeded',
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    };
    await w.mappings.put(m);
    const server = (instanceId: string, serial: string) => ({
      instanceId,
      serial,
      notAfter,
      lastStatus: 'Success',
      lastOutcome: 'installed',
      lastJobId: 'job-1',
      updatedAt: '2026-01-01T00:00:00Z',
    });
    // Two hold the mapping's serial (written another way), one an older serial.
    await w.servers.recordInstalled(m, [
      server('i-1', '0A1B'),
      server('i-2', '0a:1b'),
      server('i-3', '09'),
    ]);
    for (const id of ['i-1', 'i-2', 'i-3']) {
      w.commands.online(id);
      w.commands.tag(id, { env: 'dev' });
    }
    expect(await w.deliver({ type: 'expiry-check', version: 1 })).toEqual({ kind: 'ack' });
    expect(w.metrics.mappings).toEqual([
      { mapping, observation: { notAfter, servers: 3, serversConverged: 2 } },
    ]);
  });
});
