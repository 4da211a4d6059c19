import { describe, expect, it } from 'vitest';
import { newDeployment, revise } from '../../../src/domain/deployment-record.ts';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  crashOnceAfterSendCommand,
  progress,
  workerWorld,
} from '../../support/worker-world.ts';

type World = ReturnType<typeof workerWorld>;

const jobId = 'job-00000001';
const key = { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' };
const admin = 'arn:aws:iam::123456789012:role/admin';

/** What POST /v1/deployments/{id}/cancel writes: a new version of the record. */
async function requestCancel(w: World): Promise<void> {
  const d = await w.deployments.get(jobId);
  if (d === undefined) throw new Error('no record');
  const now = w.clock.now();
  await w.deployments.save(revise(d, { cancelRequest: { at: now.toISOString(), by: admin } }, now));
}

const running = (instanceId: string) =>
  anInvocation({ instanceId, status: 'InProgress', statusDetails: 'InProgress', output: '' });
const cancelled = (instanceId: string) =>
  anInvocation({ instanceId, status: 'Cancelled', statusDetails: 'Cancelled', output: '' });

describe('a cancel request', () => {
  it('ends a Queued job Cancelled without exporting or sending anything', async () => {
    const w = workerWorld();
    await w.deployments.create(
      newDeployment(
        {
          jobId,
          certificateArn: arnA,
          certName: 'web',
          target: key.target,
          install: {},
          trigger: 'api',
        },
        w.clock.now(),
      ),
    );
    await requestCancel(w);
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    const d = await w.deployments.get(jobId);
    expect(d?.status).toBe('Cancelled');
    expect(d?.reason).toBe(
      `cancelled by ${admin} at ${w.clock.now().toISOString()}; no command was sent to any server`,
    );
    expect(w.certificates.exports).toHaveLength(0);
    expect(w.commands.sent).toHaveLength(0);
    expect(w.mappings.lockOf(key)).toBeUndefined();
  });

  it('cancels a running command, waits for it to stop and records where each server got', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', [running('i-1'), running('i-2')]),
      progress('InProgress', [anInvocation({ instanceId: 'i-1' }), running('i-2')]),
      progress('Cancelling', [anInvocation({ instanceId: 'i-1' }), running('i-2')]),
      progress('Cancelled', [anInvocation({ instanceId: 'i-1' }), cancelled('i-2')]),
    ];
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    await requestCancel(w);
    // The next look cancels the command once; it is still stopping.
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    expect(w.commands.cancelled).toEqual(['cmd-1']);
    expect((await w.deployments.get(jobId))?.commandCancelledAt).toBeDefined();
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    expect(w.commands.cancelled).toEqual(['cmd-1']);

    const d = await w.deployments.get(jobId);
    expect(d?.status).toBe('Cancelled');
    expect(d?.reason).toMatch(
      /^cancelled by .*role\/admin at .*; installed on 1 of 2 servers before the command stopped; cancelled on 1: i-2$/,
    );
    expect(w.servers.results(jobId).map((s) => [s.instanceId, s.status])).toEqual([
      ['i-1', 'Success'],
      ['i-2', 'Cancelled'],
    ]);
    const mapping = await w.mappings.get(key);
    expect(mapping?.lastOutcome).toBe('Cancelled');
    expect(mapping?.serial).toBeUndefined();
    expect(w.mappings.lockOf(key)).toBeUndefined();
    expect(w.logLines.join('')).toMatch(/"level":"warn"[^\n]*deployment Cancelled/);
  });

  it('stops nothing when the command had already ended: the outcome stands, noted', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', [running('i-1')]),
      progress('Success', [anInvocation({ instanceId: 'i-1' })]),
    ];
    await w.deliver(aDeployMessage());
    await requestCancel(w);
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    const d = await w.deployments.get(jobId);
    expect(d?.status).toBe('Succeeded');
    expect(d?.reason).toMatch(/after the command had ended: nothing was stopped\)$/);
    expect(w.commands.cancelled).toEqual([]);
  });

  it('recorded before the dispatch claim: no command is ever sent', async () => {
    const w = workerWorld();
    // The request lands while the job exports, before its write that claims the dispatch.
    const exportNow = w.certificates.export.bind(w.certificates);
    w.certificates.export = async (arn, passphrase) => {
      await requestCancel(w);
      return exportNow(arn, passphrase);
    };
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    expect((await w.deployments.get(jobId))?.status).toBe('Cancelled');
    expect(w.commands.sent).toHaveLength(0);
  });

  it('recorded after the claim, while the command goes out: the command is found and cancelled', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', [running('i-1')]),
      progress('InProgress', [running('i-1')]),
      progress('Cancelled', [cancelled('i-1')]),
    ];
    const send = w.commands.send.bind(w.commands);
    w.commands.send = async (input) => {
      await requestCancel(w);
      return send(input);
    };
    // The pickup's write of the command sent loses to the cancel request's: nothing is lost, the
    // claim (dispatchStartedAt) stands, and the next pickup finds the command by its comment.
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    const between = await w.deployments.get(jobId);
    expect(between).toMatchObject({ status: 'Dispatching' });
    expect(between?.dispatchStartedAt).toBeDefined();
    expect(between?.cancelRequest?.by).toBe(admin);
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'later' });
    expect(await w.deployments.get(jobId)).toMatchObject({ status: 'Running', commandId: 'cmd-1' });
    expect(w.commands.cancelled).toEqual(['cmd-1']);
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    expect((await w.deployments.get(jobId))?.status).toBe('Cancelled');
    expect(w.commands.sent).toHaveLength(1);
  });

  it('finds the command a crashed pickup sent, and cancels it instead of sending again', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', [running('i-1')]),
      progress('Cancelled', [cancelled('i-1')]),
    ];
    crashOnceAfterSendCommand(w);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    await requestCancel(w);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 2)).toMatchObject({ kind: 'later' });
    expect(w.commands.cancelled).toEqual(['cmd-1']);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 3)).toEqual({ kind: 'ack' });
    expect((await w.deployments.get(jobId))?.status).toBe('Cancelled');
    expect(w.commands.sent).toHaveLength(1);
  });

  it('waits for a command that may have gone out, then ends without sending one', async () => {
    const w = workerWorld();
    w.commands.failSend = [
      Object.assign(new Error('ssm down'), {
        name: 'InternalServerError',
        $metadata: { httpStatusCode: 500 },
      }),
    ];
    expect(await w.deliver(aDeployMessage(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    await requestCancel(w);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 2)).toMatchObject({
      kind: 'later',
      delaySeconds: 10,
    });
    w.clock.advance(31_000);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 3)).toEqual({ kind: 'ack' });
    const d = await w.deployments.get(jobId);
    expect(d?.status).toBe('Cancelled');
    expect(d?.reason).toMatch(/no command was sent to any server$/);
    expect(w.commands.sent).toHaveLength(0);
  });

  it('waits 30 s from a send whose answer was lost, not from the dispatch, and cancels the command', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('InProgress', [running('i-1')]),
      progress('Cancelled', [cancelled('i-1')]),
    ];
    const lost = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    w.commands.loseAnswer = [{ error: lost, listedAfterMs: 40_000, tookMs: 25_000 }];
    expect(await w.deliver(aDeployMessage(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    await requestCancel(w);
    w.clock.advance(10_000);
    // 35 s after the dispatch began, 10 s after the failure: the command is not listed yet.
    expect(await w.deliver(aDeployMessage(), 'msg-1', 2)).toMatchObject({
      kind: 'later',
      delaySeconds: 10,
    });
    w.clock.advance(10_000);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 3)).toMatchObject({ kind: 'later' });
    expect(w.commands.cancelled).toEqual(['cmd-1']);
    expect(await w.deliver(aDeployMessage(), 'msg-1', 4)).toEqual({ kind: 'ack' });
    expect((await w.deployments.get(jobId))?.status).toBe('Cancelled');
    expect(w.commands.sent).toHaveLength(1);
  });
});
