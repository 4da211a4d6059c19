import { describe, expect, it } from 'vitest';
import { revise } from '../../../src/domain/deployment-record.ts';
import type { DeployMessage } from '../../../src/messages/deploy-message.ts';
import { sweepPageSize } from '../../../src/worker/reconcile-handler.ts';
import {
  acmSerial,
  aDeployMessage,
  anInvocation,
  arnA,
  certA,
  progress,
  summaryLine,
  workerWorld,
} from '../../support/worker-world.ts';

const key = { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' };
const serial = acmSerial(certA).replaceAll(':', '').toUpperCase();
const reconcileOne = (sweepId = 'sweep-1', verify = false) => ({
  type: 'reconcile-mapping',
  version: 1,
  sweepId,
  certificateArn: arnA,
  certName: 'web',
  target: key.target,
  ...(verify ? { verify: true } : {}),
});

/** A world where env=dev was deployed to i-1 and i-2 (serial of certA), both online. */
async function deployedWorld() {
  const w = workerWorld();
  w.commands.online('i-00000001', 'i-00000002');
  w.commands.tag('i-00000001', { env: 'dev' });
  w.commands.tag('i-00000002', { env: 'dev' });
  w.commands.script = [
    progress('Success', [
      anInvocation({ instanceId: 'i-00000001', output: summaryLine({ serial }) }),
      anInvocation({ instanceId: 'i-00000002', output: summaryLine({ serial }) }),
    ]),
  ];
  expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
  expect((await w.deployments.get('job-00000001'))?.status).toBe('Succeeded');
  return w;
}

/** Runs the deploy jobs a reconciliation queued, each to its end, with scripted results. */
async function runQueued(
  w: Awaited<ReturnType<typeof deployedWorld>>,
  from: number,
  output: (instanceId: string) => string = () => summaryLine({ serial }),
) {
  const jobs = w.queue.messages.slice(from) as DeployMessage[];
  for (const job of jobs) {
    w.commands.script = [
      progress(
        'Success',
        (job.instanceIds ?? []).map((instanceId) =>
          anInvocation({ instanceId, output: output(instanceId) }),
        ),
      ),
    ];
    const outcome = await w.deliver(job, `msg-${job.jobId}`);
    expect(outcome, JSON.stringify(outcome)).toEqual({ kind: 'ack' });
  }
  return jobs;
}

describe('a reconciliation sweep', () => {
  it('queues one reconcile-mapping message per mapping and the next page as a message of its own', async () => {
    const w = workerWorld();
    for (let i = 0; i < sweepPageSize + 5; i++) {
      await w.mappings.put({
        certificateArn: arnA,
        certName: `web${i}`,
        target: key.target,
        install: {},
        createdAt: '2026-11-30T00:00:00.000Z',
        updatedAt: '2026-11-30T00:00:00.000Z',
      });
    }
    expect(
      await w.deliver({ type: 'reconcile', version: 1, scheduledTime: '2026-11-30T04:00:00Z' }),
    ).toEqual({ kind: 'ack' });
    const first = [...w.queue.reconciles];
    expect(first.filter((m) => m.type === 'reconcile-mapping')).toHaveLength(sweepPageSize);
    const next = first.find((m) => m.type === 'reconcile');
    expect(next).toMatchObject({ type: 'reconcile', cursor: expect.any(String) });
    const sweepId = (first[0] as { sweepId: string }).sweepId;
    expect(first.every((m) => m.sweepId === sweepId)).toBe(true);
    // The same scheduled run delivered twice is the same sweep (its jobs dedupe by id).
    const again = workerWorld();
    const [oneMapping] = (await w.mappings.list(1)).items;
    if (oneMapping === undefined) throw new Error('no mapping');
    await again.mappings.put(oneMapping);
    await again.deliver({ type: 'reconcile', version: 1, scheduledTime: '2026-11-30T04:00:00Z' });
    expect(again.queue.reconciles[0]?.sweepId).toBe(sweepId);

    expect(await w.deliver(next, 'msg-page-2')).toEqual({ kind: 'ack' });
    const second = w.queue.reconciles.slice(first.length);
    expect(second.filter((m) => m.type === 'reconcile-mapping')).toHaveLength(5);
    expect(second.some((m) => m.type === 'reconcile')).toBe(false);
    const names = w.queue.reconciles.flatMap((m) =>
      m.type === 'reconcile-mapping' ? [m.certName] : [],
    );
    expect(new Set(names).size).toBe(sweepPageSize + 5);
  });

  it('does nothing for a converged mapping: every online server holds ACM’s serial', async () => {
    const w = await deployedWorld();
    const before = w.queue.messages.length;
    expect(await w.deliver(reconcileOne())).toEqual({ kind: 'ack' });
    expect(w.queue.messages.length).toBe(before);
    expect(w.logLines.join('')).toMatch(/all 2 online servers hold serial/);
  });

  it('installs on the servers that lack the serial only: tagged later, an mi- node, a failed one', async () => {
    const w = await deployedWorld();
    // A server tagged after the deployment, an on-premises node, and one offline (skipped).
    w.commands.online('i-00000003', 'mi-0123456789abcdef0');
    w.commands.tag('i-00000003', { env: 'dev' });
    w.commands.tag('mi-0123456789abcdef0', { env: 'dev' });
    w.commands.nodes.set('i-00000009', { instanceId: 'i-00000009', pingStatus: 'ConnectionLost' });
    w.commands.tag('i-00000009', { env: 'dev' });
    const before = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-2'));
    const jobs = await runQueued(w, before);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      trigger: 'reconcile',
      instanceIds: ['i-00000003', 'mi-0123456789abcdef0'],
    });
    // The targeted job reused the export the others hold: no new export.
    expect(w.certificates.exports).toHaveLength(1);
    // Now converged: the next sweep queues nothing.
    const after = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-3'));
    expect(w.queue.messages.length).toBe(after);
    // A server whose install failed is tried again by the next sweep.
    w.commands.online('i-00000004');
    w.commands.tag('i-00000004', { env: 'dev' });
    await w.deliver(reconcileOne('sweep-4'));
    // Its install fails (the reload failed and was rolled back): the record says so...
    const queued = w.queue.messages.slice(after);
    expect(queued).toEqual([expect.objectContaining({ instanceIds: ['i-00000004'] })]);
    w.commands.script = [
      progress('Failed', [
        anInvocation({
          instanceId: 'i-00000004',
          status: 'Failed',
          statusDetails: 'Failed',
          responseCode: 14,
          output: summaryLine({ outcome: 'reload-failed-rolled-back', serial }),
        }),
      ]),
    ];
    await w.deliver(queued[0], 'msg-failing');
    const failed = (await w.servers.installed(key)).find((x) => x.instanceId === 'i-00000004');
    expect(failed).toMatchObject({
      lastStatus: 'Failed',
      lastOutcome: 'reload-failed-rolled-back',
    });
    expect(failed?.serial).toBeUndefined();
    // ...and the next sweep tries it again.
    const failedOnce = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-5'));
    expect(w.queue.messages.slice(failedOnce)).toEqual([
      expect.objectContaining({ instanceIds: ['i-00000004'] }),
    ]);
  });

  it('names who asked for the sweep on the jobs it queues', async () => {
    const w = await deployedWorld();
    w.commands.online('i-00000003');
    w.commands.tag('i-00000003', { env: 'dev' });
    const before = w.queue.messages.length;
    await w.deliver({
      ...reconcileOne('api-1234'),
      requester: 'arn:aws:iam::123456789012:role/ops',
    });
    expect(w.queue.messages.slice(before)).toEqual([
      expect.objectContaining({
        requester: 'reconcile api-1234 for arn:aws:iam::123456789012:role/ops',
      }),
    ]);
  });

  it('batches many servers 50 to a job, within Run Command’s InstanceIds limit', async () => {
    const w = await deployedWorld();
    const many = Array.from({ length: 120 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    for (const id of many) {
      w.commands.online(id);
      w.commands.tag(id, { env: 'dev' });
    }
    const before = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-big'));
    const jobs = w.queue.messages.slice(before);
    expect(jobs.map((j) => j.instanceIds?.length)).toEqual([50, 50, 20]);
    expect(new Set(jobs.flatMap((j) => j.instanceIds ?? []))).toEqual(new Set(many));
    // The same sweep again (a redelivery) makes the same job ids.
    await w.deliver(reconcileOne('sweep-big'), 'msg-again');
    expect(w.queue.messages.slice(before + 3).map((j) => j.jobId)).toEqual(
      jobs.map((j) => j.jobId),
    );
  });

  it('deploys a renewal whose event never arrived to every server with the tag', async () => {
    const w = await deployedWorld();
    const renewed = w.certificates.certificates.get(arnA);
    if (renewed === undefined) throw new Error('no certificate');
    renewed.description = { ...renewed.description, serial: '0f:0e:0d' };
    const before = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-r'));
    const jobs = w.queue.messages.slice(before);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.instanceIds).toBeUndefined();
    expect(jobs[0]?.trigger).toBe('reconcile');
  });

  it('releases a lock whose job is gone, and leaves a running job’s lock alone', async () => {
    const w = await deployedWorld();
    const until = new Date(w.clock.now().getTime() + 3_600_000);
    await w.mappings.acquireLock(key, 'job-lost-0001', until, w.clock.now());
    await w.deliver(reconcileOne('sweep-l'));
    expect((await w.mappings.get(key))?.lock).toBeUndefined();
    expect(w.logLines.join('')).toMatch(/released the lock of a job that is gone/);

    // A job that holds the lock and runs: the sweep waits for the next round.
    const done = await w.deployments.get('job-00000001');
    if (done === undefined) throw new Error('no record');
    await w.deployments.create({
      ...done,
      job: { ...done.job, jobId: 'job-running-01' },
      status: 'Running',
      version: 1,
    });
    await w.mappings.acquireLock(key, 'job-running-01', until, w.clock.now());
    const before = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-m'));
    expect((await w.mappings.get(key))?.lock?.jobId).toBe('job-running-01');
    expect(w.queue.messages.length).toBe(before);
  });

  it('sends nothing when no online server carries the tag (no export, no secret version)', async () => {
    const w = await deployedWorld();
    w.commands.nodes.clear();
    const before = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-o'));
    expect(w.queue.messages.length).toBe(before);
  });

  it('leaves servers whose agent is too old out, and says so', async () => {
    const w = await deployedWorld();
    w.commands.nodes.set('i-000000aa', {
      instanceId: 'i-000000aa',
      pingStatus: 'Online',
      agentVersion: '3.2.1.0',
    });
    w.commands.tag('i-000000aa', { env: 'dev' });
    const before = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-a'));
    expect(w.queue.messages.length).toBe(before);
    expect(w.logLines.join('')).toMatch(/"agentTooOld":\["i-000000aa"\]/);
  });
});

describe('verify and repair', () => {
  it('verifies converged servers with Mode=Verify and repairs the one whose files drifted', async () => {
    const w = await deployedWorld();
    const before = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-v', true));
    const [verify] = w.queue.messages.slice(before);
    expect(verify).toMatchObject({ mode: 'verify', instanceIds: ['i-00000001', 'i-00000002'] });
    w.commands.script = [
      progress('Success', [
        anInvocation({
          instanceId: 'i-00000001',
          output: summaryLine({ outcome: 'verified', serial, problems: [] }),
        }),
        anInvocation({
          instanceId: 'i-00000002',
          output: summaryLine({ outcome: 'drift', serial, problems: ['key-missing', 'key-mode'] }),
        }),
      ]),
    ];
    const exportsBefore = w.certificates.exports.length;
    expect(await w.deliver(verify, 'msg-verify')).toEqual({ kind: 'ack' });
    const sent = w.commands.sent.at(-1);
    expect(sent?.parameters.Mode).toBe('Verify');
    expect(w.certificates.exports).toHaveLength(exportsBefore);
    const record = await w.deployments.get(verify?.jobId as string);
    expect(record?.status).toBe('Succeeded');
    expect(record?.reason).toMatch(
      /drifted on 1, repair queued: i-00000002 \(key-missing, key-mode\)/,
    );
    // The mapping keeps its last deployment: a check installs nothing.
    expect((await w.mappings.get(key))?.lastJobId).toBe('job-00000001');
    const installed = await w.servers.installed(key);
    expect(installed.find((s) => s.instanceId === 'i-00000002')?.problems).toEqual([
      'key-missing',
      'key-mode',
    ]);
    expect(installed.find((s) => s.instanceId === 'i-00000001')?.verifiedAt).toEqual(
      expect.any(String),
    );
    // The repair: an install on i-2 alone, no Mode parameter.
    const repairs = w.queue.messages.slice(before + 1);
    expect(repairs).toEqual([
      expect.objectContaining({ instanceIds: ['i-00000002'], trigger: 'reconcile' }),
    ]);
    expect(repairs[0]?.mode).toBeUndefined();
    await runQueued(w, before + 1);
    expect(w.commands.sent.at(-1)?.parameters.Mode).toBeUndefined();
    expect(
      (await w.servers.installed(key)).find((s) => s.instanceId === 'i-00000002')?.problems,
    ).toBeUndefined();
  });

  it('refuses to verify a mapping with nothing installed of ACM’s current serial', async () => {
    const w = await deployedWorld();
    const renewed = w.certificates.certificates.get(arnA);
    if (renewed === undefined) throw new Error('no certificate');
    renewed.description = { ...renewed.description, serial: '0f:0e:0d' };
    expect(
      await w.deliver(
        aDeployMessage({ jobId: 'job-verify-01', mode: 'verify', trigger: 'reconcile' }),
        'msg-v',
      ),
    ).toEqual({ kind: 'ack' });
    const d = await w.deployments.get('job-verify-01');
    expect(d?.status).toBe('Failed');
    expect(d?.reason).toMatch(/no export of ACM's current serial/);
    expect(w.certificates.exports).toHaveLength(1);
  });
});

describe('a rollout someone stopped', () => {
  it('is held back from the sweep after a cancelled rollout, until a deployment is asked for again', async () => {
    const w = await deployedWorld();
    // A redeployment, cancelled while its command runs.
    const inProgress = (instanceId: string) =>
      anInvocation({ instanceId, status: 'InProgress', statusDetails: 'InProgress', output: '' });
    const stopped = (instanceId: string) =>
      anInvocation({ instanceId, status: 'Cancelled', statusDetails: 'Cancelled', output: '' });
    w.commands.script = [
      progress('InProgress', [inProgress('i-00000001'), inProgress('i-00000002')]),
      progress('InProgress', [inProgress('i-00000001'), inProgress('i-00000002')]),
      progress('Cancelled', [stopped('i-00000001'), stopped('i-00000002')]),
    ];
    const job = aDeployMessage({ jobId: 'job-renewal-01' });
    expect(await w.deliver(job, 'msg-r')).toMatchObject({ kind: 'later' });
    const running = await w.deployments.get('job-renewal-01');
    if (running === undefined) throw new Error('no record');
    await w.deployments.save(
      revise(
        running,
        { cancelRequest: { at: w.clock.now().toISOString(), by: 'ops' } },
        w.clock.now(),
      ),
    );
    // The next look cancels the command; the one after sees it stopped.
    expect(await w.deliver(job, 'msg-r')).toMatchObject({ kind: 'later' });
    expect(await w.deliver(job, 'msg-r')).toEqual({ kind: 'ack' });
    const cancelledRecord = await w.deployments.get('job-renewal-01');
    expect(cancelledRecord?.status, cancelledRecord?.reason).toBe('Cancelled');
    expect((await w.mappings.get(key))?.rolloutHalted).toMatch(/job-renewal-01 was cancelled/);

    // A server the sweep would install on: it holds back instead, and says why.
    w.commands.online('i-00000005');
    w.commands.tag('i-00000005', { env: 'dev' });
    const before = w.queue.messages.length;
    await w.deliver(reconcileOne('sweep-held'));
    expect(w.queue.messages.length).toBe(before);
    expect(w.logLines.join('')).toMatch(
      /"action":"held".*held back: deployment job-renewal-01 was cancelled/,
    );

    // A deployment asked for again lifts the hold; the next sweep works as before.
    w.commands.script = [
      progress('Success', [
        anInvocation({ instanceId: 'i-00000001', output: summaryLine({ serial }) }),
        anInvocation({ instanceId: 'i-00000002', output: summaryLine({ serial }) }),
        anInvocation({ instanceId: 'i-00000005', output: summaryLine({ serial }) }),
      ]),
    ];
    expect(await w.deliver(aDeployMessage({ jobId: 'job-again-01' }), 'msg-again')).toEqual({
      kind: 'ack',
    });
    expect((await w.mappings.get(key))?.rolloutHalted).toBe('');
    w.commands.online('i-00000006');
    w.commands.tag('i-00000006', { env: 'dev' });
    await w.deliver(reconcileOne('sweep-after'));
    expect(w.queue.messages.slice(before)).toEqual([
      expect.objectContaining({ instanceIds: ['i-00000006'] }),
    ]);
  });
});
