import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../../src/domain/errors.ts';
import { secretVersionToken } from '../../../src/worker/job-ids.ts';
import { aCertificateAvailableEvent } from '../../support/builders/acm-events.ts';
import { InMemoryMappingStore } from '../../support/fakes/stores.ts';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  crashOnceAfterSendCommand,
  encryptedKey,
  progress,
  summaryLine,
  workerWorld,
} from '../../support/worker-world.ts';

/** Records a pickup of `messageId` that never ended, as a worker that died mid-step leaves it. */
async function leaveUnfinishedPickup(
  w: ReturnType<typeof workerWorld>,
  messageId: string,
  receiveCount: number,
) {
  const d = await w.deployments.get('job-00000001');
  if (d === undefined) throw new Error('no record');
  await w.deployments.save({
    ...d,
    version: d.version + 1,
    activeAttempt: { messageId, receiveCount, startedAt: d.updatedAt },
  });
}

const key = { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' };

describe('deploy handler', () => {
  it('exports, dispatches, polls and records Succeeded for every server', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', []),
      progress('InProgress', [
        anInvocation({
          instanceId: 'i-1',
          status: 'InProgress',
          statusDetails: 'InProgress',
          output: '',
        }),
      ]),
      progress('Success', [
        anInvocation({ instanceId: 'i-1' }),
        anInvocation({ instanceId: 'i-2' }),
      ]),
    ];
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });

    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('Succeeded');
    expect(d?.reason).toMatch(/installed on 2 of 2 servers/);
    const servers = w.servers.results('job-00000001');
    expect(servers.map((s) => [s.instanceId, s.status, s.summary?.outcome])).toEqual([
      ['i-1', 'Success', 'installed'],
      ['i-2', 'Success', 'installed'],
    ]);
    expect(d?.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Exported', 'True'],
      ['Dispatched', 'True'],
      ['Completed', 'True'],
    ]);
    // The Exported condition names the serial as every other human-read text does (ACM's form).
    const exported = d?.conditions.find((c) => c.type === 'Exported');
    expect(exported?.message).toMatch(/^exported serial ([0-9a-f]{2}:)+[0-9a-f]{2}, valid /);
    expect(w.commands.sent).toHaveLength(1);
    const sent = w.commands.sent[0];
    expect(sent?.target).toEqual({ key: 'env', value: 'dev' });
    expect(sent?.parameters.SecretVersionId).toBe(secretVersionToken('job-00000001'));
    expect(sent?.parameters.SecretId).toMatch(/:secret:acm-passphrase\/web-/);
    expect(Object.keys(sent?.parameters ?? {}).sort()).toEqual([
      'CertName',
      'Certificate',
      'CertificateChain',
      'SecretId',
      'SecretVersionId',
    ]);

    const mapping = await w.mappings.get(key);
    expect(mapping).toMatchObject({
      lastOutcome: 'Succeeded',
      lastJobId: 'job-00000001',
      serial: d?.certificate?.serial,
    });
    expect(mapping?.secretArn).toBe(d?.secretArn);
    expect(mapping?.secretVersionId).toBe(d?.secretVersionId);
    expect(w.mappings.lockOf(key)).toBeUndefined();
  });

  it('keeps the passphrase and the encrypted key out of parameters, records, mapping and logs', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage());
    const passphrase = w.certificates.exports[0]?.passphrase ?? '';
    expect(passphrase).toMatch(/^[A-Za-z0-9]{40}$/);
    const everything = JSON.stringify([
      w.commands.sent,
      [...w.deployments.records.values()],
      [...w.mappings.items.values()],
      w.logLines,
    ]);
    expect(everything).not.toContain(passphrase);
    expect(everything).not.toContain('MIIFAKE');
    expect(everything).not.toContain(Buffer.from(encryptedKey).toString('base64').slice(0, 24));
    expect(everything).not.toContain('PRIVATE KEY');
  });

  it('asks for the formats with one parameter and keeps the PKCS#12 password out of everything but the secret, the same for every export of the mapping', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage({ install: { formats: ['pkcs12', 'combined'] } }));
    const sent = w.commands.sent[0];
    expect(sent?.parameters.Formats).toBe('combined,pkcs12');
    const first = await w.deployments.get('job-00000001');
    const version = async (d: typeof first) =>
      (await w.secrets.getVersion(d?.secretArn ?? '', d?.secretVersionId ?? '')).value.reveal();
    const password = /^pkcs12-password: ([A-Za-z0-9]{40})$/m.exec(await version(first))?.[1];
    expect(password).toBeDefined();
    expect(password).not.toBe(w.certificates.exports[0]?.passphrase);

    // A renewal (ACM's event) installs the same formats with a new passphrase and the same password.
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aCertificateAvailableEvent({ certificateArn: arnA }), 'msg-event');
    const [renewal] = w.queue.messages;
    expect(renewal?.install).toEqual({ formats: ['pkcs12', 'combined'] });
    await w.deliver(renewal, 'msg-renewal');
    expect(w.commands.sent.at(-1)?.parameters.Formats).toBe('combined,pkcs12');
    expect(w.certificates.exports).toHaveLength(2);
    const renewed = await w.deployments.get(renewal?.jobId ?? '');
    expect(renewed?.status).toBe('Succeeded');
    const text = await version(renewed);
    expect(text).toContain(`passphrase: ${w.certificates.exports[1]?.passphrase}`);
    expect(text).toContain(`pkcs12-password: ${password}`);

    const everything = JSON.stringify([
      w.commands.sent,
      [...w.deployments.records.values()],
      [...w.mappings.items.values()],
      w.queue.messages,
      w.logLines,
    ]);
    expect(everything).not.toContain(password);
  });

  it('writes no PKCS#12 password for a mapping without a PKCS#12 format, and no Formats parameter without formats', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage({ install: { formats: ['combined'] } }));
    const d = await w.deployments.get('job-00000001');
    const stored = await w.secrets.getVersion(d?.secretArn ?? '', d?.secretVersionId ?? '');
    expect(stored.value.reveal()).not.toContain('pkcs12-password');
    expect(w.commands.sent[0]?.parameters.Formats).toBe('combined');
    // formats: [] is an install option of its own: no Formats parameter, and the files go.
    await w.deliver(aDeployMessage({ jobId: 'job-00000002', install: { formats: [] } }), 'msg-2');
    expect(w.commands.sent.at(-1)?.parameters).not.toHaveProperty('Formats');
    expect((await w.mappings.get(key))?.install).toEqual({ formats: [] });
  });

  it('stores key and passphrase together in the secret version the servers read', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage());
    const d = await w.deployments.get('job-00000001');
    const stored = await w.secrets.getVersion(d?.secretArn ?? '', d?.secretVersionId ?? '');
    const text = stored.value.reveal();
    expect(text.split('\n').slice(0, 2)).toEqual([
      'acm-cert-export-secret v1',
      `passphrase: ${w.certificates.exports[0]?.passphrase}`,
    ]);
    expect(text).toContain(encryptedKey.trim());
  });

  it('stores the passphrase in a per-mapping secret tagged with the target tag', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage());
    await w.deliver(
      aDeployMessage({ jobId: 'job-00000002', target: { key: 'env', value: 'prod' } }),
      'msg-2',
    );
    const secrets = [...w.secrets.secrets.entries()];
    expect(secrets).toHaveLength(2);
    expect(secrets.map(([, s]) => s.tags.env).sort()).toEqual(['dev', 'prod']);
    expect(secrets.every(([name]) => name.startsWith('acm-passphrase/web-'))).toBe(true);
  });

  it('ends NoTargets when the tag matches no server, without polling again', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('Success', [], { statusDetails: 'NoInstancesInTag', targetCount: 0 }),
    ];
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('NoTargets');
    expect(d?.reason).toMatch(/no managed node carries the tag env=dev/);
  });

  it('ends PartiallyFailed with the failing server and the script reason', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('Failed', [
        anInvocation({ instanceId: 'i-ok' }),
        anInvocation({
          instanceId: 'i-bad',
          status: 'Failed',
          statusDetails: 'Failed',
          responseCode: 12,
          output: `${summaryLine({ outcome: 'validation-failed', message: 'chain does not verify the certificate' })}\n----------ERROR-------\nverify failed\n`,
        }),
      ]),
    ];
    await w.deliver(aDeployMessage());
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('PartiallyFailed');
    expect(d?.reason).toContain('i-bad');
    expect(d?.reason).toContain('exit 12');
    expect(d?.reason).toContain('chain does not verify');
    expect((await w.mappings.get(key))?.lastOutcome).toBe('PartiallyFailed');
  });

  it.each([
    [
      'not issued',
      { status: 'PENDING_VALIDATION' },
      /is PENDING_VALIDATION; ACM exports only ISSUED/,
    ],
    ['not exportable', { exportable: false, type: 'AMAZON_ISSUED' }, /cannot be exported/],
  ])(
    'fails a %s certificate, acknowledges, and leaves no mapping behind',
    async (_, description, reason) => {
      const w = workerWorld();
      const existing = w.certificates.certificates.get(arnA);
      if (existing === undefined) throw new Error('fixture');
      w.certificates.add({ ...existing.description, ...description }, existing.bundle);
      expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
      const d = await w.deployments.get('job-00000001');
      expect(d?.status).toBe('Failed');
      expect(d?.reason).toMatch(reason);
      expect(w.certificates.exports).toHaveLength(0);
      expect(await w.mappings.get(key)).toBeUndefined();
    },
  );

  it('exports without describing the certificate first, creating the mapping’s secret', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    expect(await w.deliver(aDeployMessage(), 'm1')).toEqual({ kind: 'ack' });
    expect(w.certificates.describes).toEqual([]);
    expect(w.certificates.exports).toHaveLength(1);
    // The mapping recorded no secret: creating it is tried first.
    expect(w.secrets.puts.map((p) => p.likelyMissing)).toEqual([true]);
    expect((await w.mappings.get(key))?.secretArn).toBeDefined();

    // A repeat: the mapping knows its secret, a version is put.
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage({ jobId: 'job-00000002' }), 'm2');
    expect(w.secrets.puts.map((p) => p.likelyMissing)).toEqual([true, false]);
    expect(w.certificates.describes).toEqual([]);
  });

  it('refuses an export that has expired, naming it, without sending anything', async () => {
    const w = workerWorld();
    w.clock.advance(11 * 365 * 86_400_000);
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('Failed');
    expect(d?.reason).toMatch(/expired at 2036-11-24T02:38:07.000Z; ACM exports only ISSUED/);
    expect(w.commands.sent).toHaveLength(0);
    expect(w.secrets.puts).toHaveLength(0);
  });

  it('fails an unknown certificate with a reason a person can act on', async () => {
    const w = workerWorld();
    await w.deliver(
      aDeployMessage({ certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/nope' }),
    );
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('Failed');
    expect(d?.reason).toMatch(/does not exist in this account and region/);
  });

  it('refuses a certificate outside ALLOWED_CERTIFICATE_ARNS', async () => {
    const w = workerWorld({
      allowedCertificateArns: ['arn:aws:acm:us-east-1:123456789012:certificate/other-*'],
    });
    await w.deliver(aDeployMessage());
    expect((await w.deployments.get('job-00000001'))?.reason).toMatch(/ALLOWED_CERTIFICATE_ARNS/);
  });

  it('acknowledges a duplicate of a finished job without doing anything', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage(), 'msg-1');
    const versions = w.deployments.history.length;
    expect(await w.deliver(aDeployMessage(), 'msg-2')).toEqual({ kind: 'ack' });
    expect(w.deployments.history.length).toBe(versions);
    expect(w.commands.sent).toHaveLength(1);
    expect(w.certificates.exports).toHaveLength(1);
  });

  it('gives a message without a job id the same job on redelivery', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', []),
      progress('Success', [anInvocation({ instanceId: 'i-1' })]),
    ];
    const legacy = {
      CertificateArn: arnA,
      CertName: 'web',
      TargetTagKey: 'env',
      TargetTagValue: 'dev',
    };
    await w.deliver(legacy, 'sqs-id-1');
    await w.deliver(legacy, 'sqs-id-1');
    expect(w.deployments.records.size).toBe(1);
    expect([...w.deployments.records.values()][0]?.status).toBe('Succeeded');
    expect(w.commands.sent).toHaveLength(1);
  });

  it('records TimedOut even when cancelling the command fails (SSM ends it at its own timeout)', async () => {
    const w = workerWorld();
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage({ jobId: 'job-cancel-1' }), 'm1');
    w.clock.advance(3601_000);
    w.commands.failCancel = [new Error('ThrottlingException')];
    expect(await w.deliver(aDeployMessage({ jobId: 'job-cancel-1' }), 'm1')).toEqual({
      kind: 'ack',
    });
    expect((await w.deployments.get('job-cancel-1'))?.status).toBe('TimedOut');
    expect(w.commands.cancelled).toEqual([]);
  });

  it('waits while another job holds the lock of the same certificate and target', async () => {
    const w = workerWorld();
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage({ jobId: 'job-first-1' }), 'm1');
    const second = await w.deliver(aDeployMessage({ jobId: 'job-second-2' }), 'm2');
    expect(second).toMatchObject({ kind: 'later', delaySeconds: 5 });
    expect((await w.deployments.get('job-second-2'))?.status).toBe('Queued');
    expect(w.certificates.exports).toHaveLength(1);

    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    // first job's command finishes (the fake replays the last snapshot for cmd-1: still InProgress), so
    // end it by timing out the first job instead: advance past the job timeout.
    w.clock.advance(3601_000);
    expect(await w.deliver(aDeployMessage({ jobId: 'job-first-1' }), 'm1')).toEqual({
      kind: 'ack',
    });
    expect((await w.deployments.get('job-first-1'))?.status).toBe('TimedOut');
    // Its command is cancelled: nothing installs behind the recorded outcome.
    expect(w.commands.cancelled).toEqual([(await w.deployments.get('job-first-1'))?.commandId]);
    expect(await w.deliver(aDeployMessage({ jobId: 'job-second-2' }), 'm2')).toEqual({
      kind: 'ack',
    });
    expect((await w.deployments.get('job-second-2'))?.status).toBe('Succeeded');
    expect((await w.mappings.get(key))?.lastJobId).toBe('job-second-2');
  });
});

describe('the writes of a pickup', () => {
  const written = (w: ReturnType<typeof workerWorld>, jobId = 'job-00000001') =>
    w.deployments.history.filter((d) => d.job.jobId === jobId);

  it('creates the record once the lock is held, with the pickup and Exporting in that write', async () => {
    const w = workerWorld();
    w.commands.script = [progress('InProgress', [])];
    expect(await w.deliver(aDeployMessage(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    const writes = written(w);
    // Creation + bookkeeping + Exporting; the claim before SendCommand; the command sent, its
    // counts and the pickup's end.
    expect(writes.map((d) => [d.status, d.version])).toEqual([
      ['Exporting', 1],
      ['Dispatching', 2],
      ['Running', 3],
    ]);
    expect(writes[0]).toMatchObject({ attempts: 1, activeAttempt: { messageId: 'msg-1' } });
    expect(writes[1]?.dispatchStartedAt).toBeDefined();
    expect(writes[2]).toMatchObject({ commandId: 'cmd-1', failures: 0 });
    expect(writes[2]?.activeAttempt).toBeUndefined();
    expect(writes[2]?.counts).toBeDefined();
  });

  it('ends a job in the pickup that started it with no separate end-of-pickup write', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    expect(written(w).map((d) => d.status)).toEqual(['Exporting', 'Dispatching', 'Succeeded']);
    expect(written(w)[2]?.activeAttempt).toBeUndefined();
  });

  it('records a job waiting for the lock with one write, and counts its pickups', async () => {
    const w = workerWorld();
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage({ jobId: 'job-first-1' }), 'm1');
    await w.deliver(aDeployMessage({ jobId: 'job-second-2' }), 'm2', 1);
    await w.deliver(aDeployMessage({ jobId: 'job-second-2' }), 'm2', 2);
    const writes = written(w, 'job-second-2');
    expect(writes.map((d) => [d.status, d.version, d.attempts])).toEqual([
      ['Queued', 1, 1],
      ['Queued', 2, 2],
    ]);
    expect(writes.every((d) => d.activeAttempt === undefined)).toBe(true);
  });

  it('writes a resumed job’s bookkeeping before anything else, so one worker goes on', async () => {
    const w = workerWorld();
    w.commands.script = [progress('InProgress', []), progress('InProgress', [])];
    await w.deliver(aDeployMessage(), 'msg-1', 1);
    const before = written(w).length;
    await w.deliver(aDeployMessage(), 'msg-1', 2);
    const resumed = written(w).slice(before);
    expect(resumed[0]).toMatchObject({ status: 'Running', attempts: 2 });
    expect(resumed[0]?.activeAttempt?.receiveCount).toBe(2);
  });
});

describe('the per-server items of a job’s end', () => {
  it('writes results and what the servers hold together, without reading them when all succeeded', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage(), 'm1');
    expect(w.servers.jobEnds).toEqual([{ jobId: 'job-00000001', results: 1, installed: 1 }]);
    expect(w.servers.installedReads).toBe(0);
    expect((await w.servers.installed(key))[0]).toMatchObject({ instanceId: 'i-1', serial: '01' });
  });

  it('reads what the servers held when one failed: it keeps its serial', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage(), 'm1');
    w.commands.script = [
      progress('Failed', [
        anInvocation({ instanceId: 'i-1', status: 'Failed', statusDetails: 'Failed', output: '' }),
      ]),
    ];
    await w.deliver(aDeployMessage({ jobId: 'job-00000002' }), 'm2');
    expect(w.servers.installedReads).toBe(1);
    expect((await w.servers.installed(key))[0]).toMatchObject({
      instanceId: 'i-1',
      serial: '01',
      lastStatus: 'Failed',
      lastJobId: 'job-00000002',
    });
  });
});

describe('deploy handler after a crash', () => {
  it('resumes after SendCommand without sending a second command', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', []),
      progress('Success', [anInvocation({ instanceId: 'i-1' })]),
    ];
    await w.deliver(aDeployMessage(), 'msg-1', 1);
    // Simulate a crash mid-poll: the record still names this pickup as active.
    await leaveUnfinishedPickup(w, 'msg-1', 2);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 3)).toEqual({ kind: 'ack' });
    const after = await w.deployments.get('job-00000001');
    expect(after?.status).toBe('Succeeded');
    expect(after?.attempts).toBe(2);
    expect(w.commands.sent).toHaveLength(1);
  });

  it('finds a command sent just before a crash by its comment instead of sending again', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    // The first pickup dies right after SendCommand.
    crashOnceAfterSendCommand(w);
    const first = await w.deliver(aDeployMessage(), 'msg-1', 1);
    expect(first).toMatchObject({ kind: 'later' });
    expect(w.commands.sent).toHaveLength(1);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 2)).toEqual({ kind: 'ack' });
    expect(w.commands.sent).toHaveLength(1);
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('Succeeded');
    expect(d?.commandId).toBe('cmd-1');
  });

  it('after a send whose answer was lost, waits from that failure before sending again, and finds the command', async () => {
    // Seen in the soak: Run Command took the command, its answer was lost, and the command was
    // listed only after the adapter's looks (which took 25 s, with throttles before). Timed from
    // the dispatch's start, the next pickup would have concluded nothing was sent.
    const w = workerWorld();
    const lost = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    w.commands.loseAnswer = [{ error: lost, listedAfterMs: 40_000, tookMs: 25_000 }];
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    expect(await w.deliver(aDeployMessage(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    expect((await w.deployments.get('job-00000001'))?.dispatchFailedAt).toBe(
      w.clock.now().toISOString(),
    );
    w.clock.advance(10_000);
    // 35 s after the dispatch began, 10 s after the failure: not listed yet, so it waits.
    expect(await w.deliver(aDeployMessage(), 'msg-1', 2)).toMatchObject({
      kind: 'later',
      why: expect.stringMatching(/may have been sent/),
    });
    w.clock.advance(10_000);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 3)).toEqual({ kind: 'ack' });
    expect(w.commands.sent).toHaveLength(1);
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('Succeeded');
    expect(d?.commandId).toBe('cmd-1');
  });

  it('sends the export kept in the secret when resumed before dispatch, never exporting twice', async () => {
    const w = workerWorld();
    w.commands.failSend = [
      Object.assign(new Error('ssm down'), {
        name: 'InternalServerError',
        $metadata: { httpStatusCode: 500 },
      }),
    ];
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    w.clock.advance(0);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    w.clock.advance(60_000);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 2)).toEqual({ kind: 'ack' });
    expect(w.certificates.exports).toHaveLength(1);
    expect([...w.secrets.secrets.values()][0]?.versions.size).toBe(1);
    expect(w.commands.sent).toHaveLength(1);
  });

  it('counts pickups that never ended and dead-letters the message after maxFailures', async () => {
    const w = workerWorld({ maxFailures: 3 });
    w.certificates.failNextExport = [new Error('boom 1'), new Error('boom 2'), new Error('boom 3')];
    expect(await w.deliver(aDeployMessage(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    expect(await w.deliver(aDeployMessage(), 'msg-1', 2)).toMatchObject({ kind: 'later' });
    const last = await w.deliver(aDeployMessage(), 'msg-1', 3);
    expect(last).toMatchObject({ kind: 'dead-letter' });
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('Failed');
    expect(d?.reason).toMatch(/gave up after 3 failed attempts; last: Error: boom 3/);
  });

  it('treats a terminal error from a port as Failed, acknowledged', async () => {
    const w = workerWorld();
    w.certificates.failNextExport = [
      new TerminalError('AccessDenied', 'ACM ExportCertificate: access denied'),
    ];
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    // Described once to name a more precise reason; there is none: the export's error stands.
    expect(w.certificates.describes).toHaveLength(1);
    expect((await w.deployments.get('job-00000001'))?.reason).toBe(
      'ACM ExportCertificate: access denied',
    );
  });

  it.each([
    [1, 'dead-letter'],
    [2, 'later'],
  ])(
    'with maxFailures %i, one pickup that never ended makes the next pickup %s',
    async (maxFailures, kind) => {
      const w = workerWorld({ maxFailures });
      w.commands.script = [progress('InProgress', [])];
      await w.deliver(aDeployMessage(), 'msg-1', 1);
      // Pickup 2 died mid-step: its activeAttempt was never cleared.
      await leaveUnfinishedPickup(w, 'msg-1', 2);
      expect(await w.deliver(aDeployMessage(), 'msg-1', 3)).toMatchObject({ kind });
      const after = await w.deployments.get('job-00000001');
      if (kind === 'dead-letter') {
        expect(after?.status).toBe('Failed');
        expect(after?.reason).toMatch(
          /gave up after 1 failed attempts; last: the worker stopped during a step|the worker stopped mid-step/,
        );
      } else {
        expect(after?.status).toBe('Running');
      }
    },
  );

  it('does not count a concurrent pickup of a duplicate message as a crash', async () => {
    const w = workerWorld({ maxFailures: 1 });
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage(), 'msg-1', 1);
    await leaveUnfinishedPickup(w, 'msg-1', 2);
    expect(await w.deliver(aDeployMessage(), 'msg-duplicate', 1)).toMatchObject({ kind: 'later' });
  });
});

describe('mapping store fake', () => {
  it('keys like the DynamoDB table', () => {
    expect(InMemoryMappingStore.keyString(key)).toBe(`env#dev|${arnA}#web`);
  });
});
