import { describe, expect, it } from 'vitest';
import { revise } from '../../../src/domain/deployment-record.ts';
import type { CommandProgress } from '../../../src/ports/command-runner.ts';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  progress,
  workerWorld,
} from '../../support/worker-world.ts';

type World = ReturnType<typeof workerWorld>;
type Snapshot = Omit<CommandProgress, 'commandId'>;

const jobId = 'job-00000001';
const key = { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' };
const ids = ['i-00000001', 'i-00000002', 'i-00000003', 'i-00000004', 'i-00000005'];
const canaryJob = (canary = 2) => aDeployMessage({ rollout: { canary } });

/** Five tagged servers, the first one offline (a canary prefers online servers). */
function fleet(w: World): void {
  for (const id of ids) {
    w.commands.online(id);
    w.commands.tag(id, { env: 'dev' });
  }
  w.commands.nodes.set('i-00000001', {
    instanceId: 'i-00000001',
    pingStatus: 'ConnectionLost',
    agentVersion: '3.3.2957.0',
  });
}

/** Each command sent gets the next script (the fake copies `script` at SendCommand). */
function scriptPerCommand(w: World, scripts: Snapshot[][]): void {
  const send = w.commands.send.bind(w.commands);
  w.commands.send = async (input) => {
    w.commands.script = scripts[w.commands.sent.length] ?? [];
    return send(input);
  };
}

/** The worker dies right after the n-th SendCommand, before it records anything of it, once. */
function crashAfterSend(w: World, n: number): void {
  const send = w.commands.send.bind(w.commands);
  let crashed = false;
  w.commands.send = async (input) => {
    const sent = await send(input);
    if (!crashed && w.commands.sent.length === n) {
      crashed = true;
      throw new Error('process killed');
    }
    return sent;
  };
}

const ok = (instanceId: string) => anInvocation({ instanceId });
const all = (list: readonly string[]) => progress('Success', list.map(ok));

describe('a canary rollout', () => {
  it('installs on the canary first, then on the whole tag once every canary server succeeded', async () => {
    const w = workerWorld();
    fleet(w);
    scriptPerCommand(w, [[all(['i-00000002', 'i-00000003'])], [all(ids)]]);
    expect(await w.deliver(canaryJob())).toEqual({ kind: 'ack' });

    expect(w.commands.sent).toHaveLength(2);
    expect(w.commands.sent[0]).toMatchObject({
      instanceIds: ['i-00000002', 'i-00000003'],
      comment: `acm-cert-export canary ${jobId}`,
      maxErrors: '0',
    });
    expect(w.commands.sent[1]?.instanceIds).toBeUndefined();
    expect(w.commands.sent[1]?.comment).toBe(`acm-cert-export job ${jobId}`);
    expect(w.commands.sent[1]?.parameters).toEqual(w.commands.sent[0]?.parameters);
    expect(w.certificates.exports).toHaveLength(1);

    const d = await w.deployments.get(jobId);
    expect(d).toMatchObject({
      status: 'Succeeded',
      phase: 'rest',
      canaryServers: ['i-00000002', 'i-00000003'],
      canaryCommandId: 'cmd-1',
      commandId: 'cmd-2',
    });
    expect(d?.reason).toBe(
      'after a canary (i-00000002, i-00000003): installed on 5 of 5 servers (serial 01)',
    );
    expect(w.servers.results(jobId)).toHaveLength(5);
    expect(w.mappings.lockOf(key)).toBeUndefined();
  });

  it('stops after a failed canary: the rest are never attempted, and named', async () => {
    const w = workerWorld();
    fleet(w);
    scriptPerCommand(w, [
      [
        progress('Failed', [
          ok('i-00000002'),
          anInvocation({
            instanceId: 'i-00000003',
            status: 'Failed',
            statusDetails: 'Failed',
            responseCode: 14,
            output: '',
          }),
        ]),
      ],
    ]);
    expect(await w.deliver(canaryJob())).toEqual({ kind: 'ack' });
    expect(w.commands.sent).toHaveLength(1);
    const d = await w.deployments.get(jobId);
    expect(d?.status).toBe('PartiallyFailed');
    expect(d?.reason).toBe(
      'the canary failed: installed on 1 of 2 canary servers; failed: i-00000003 Failed (exit 14: the reload command failed; the previous files were restored); never attempted on the other 3 servers (the rollout stops after a failed canary): i-00000001, i-00000004, i-00000005',
    );
    expect(w.servers.results(jobId).map((s) => s.instanceId)).toEqual(['i-00000002', 'i-00000003']);
    expect(w.mappings.lockOf(key)).toBeUndefined();
    // The reconciliation sweep must not roll out what the canary stopped.
    expect((await w.mappings.get(key))?.rolloutHalted).toMatch(
      new RegExp(`^deployment ${jobId} stopped at a failed canary at `),
    );
  });

  it('sends each phase’s command once across crashes right after each SendCommand', async () => {
    const w = workerWorld();
    fleet(w);
    scriptPerCommand(w, [[all(['i-00000002', 'i-00000003'])], [all(ids)]]);
    crashAfterSend(w, 1);
    expect(await w.deliver(canaryJob(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    crashAfterSend(w, 2);
    // The canary's command is found by its comment; the rest's is sent, then the worker dies.
    expect(await w.deliver(canaryJob(), 'msg-1', 2)).toMatchObject({ kind: 'later' });
    expect(w.commands.sent).toHaveLength(2);
    expect(await w.deliver(canaryJob(), 'msg-1', 3)).toEqual({ kind: 'ack' });
    expect(w.commands.sent).toHaveLength(2);
    expect(await w.deployments.get(jobId)).toMatchObject({
      status: 'Succeeded',
      canaryCommandId: 'cmd-1',
      commandId: 'cmd-2',
    });
  });

  it('claims the rest’s send even when the canary passed within the first pickup', async () => {
    const w = workerWorld();
    fleet(w);
    scriptPerCommand(w, [[all(['i-00000002', 'i-00000003'])], [all(ids)]]);
    crashAfterSend(w, 2);
    expect(await w.deliver(canaryJob(), 'msg-1', 1)).toMatchObject({ kind: 'later' });
    expect(w.commands.sent).toHaveLength(2);
    w.clock.advance(1000);
    expect(await w.deliver(canaryJob(), 'msg-1', 2)).toEqual({ kind: 'ack' });
    expect(w.commands.sent).toHaveLength(2);
    expect((await w.deployments.get(jobId))?.commandId).toBe('cmd-2');
  });

  it('sends one command when the tag has no more servers than the canary', async () => {
    const w = workerWorld();
    fleet(w);
    w.commands.script = [all(ids)];
    expect(await w.deliver(canaryJob(5))).toEqual({ kind: 'ack' });
    expect(w.commands.sent).toHaveLength(1);
    expect(w.commands.sent[0]?.instanceIds).toBeUndefined();
    const d = await w.deployments.get(jobId);
    expect(d).toMatchObject({ status: 'Succeeded', phase: 'rest' });
    expect(d?.reason).toBe('installed on 5 of 5 servers (serial 01)');
  });

  it('a cancel during the canary stops it, and the rest is never sent', async () => {
    const w = workerWorld();
    fleet(w);
    const running = (id: string) =>
      anInvocation({
        instanceId: id,
        status: 'InProgress',
        statusDetails: 'InProgress',
        output: '',
      });
    scriptPerCommand(w, [
      [
        progress('InProgress', [running('i-00000002'), running('i-00000003')]),
        progress('InProgress', [running('i-00000002'), running('i-00000003')]),
        progress('Cancelled', [
          ok('i-00000002'),
          anInvocation({
            instanceId: 'i-00000003',
            status: 'Cancelled',
            statusDetails: 'Cancelled',
            output: '',
          }),
        ]),
      ],
    ]);
    expect(await w.deliver(canaryJob())).toMatchObject({ kind: 'later' });
    const d = await w.deployments.get(jobId);
    if (d === undefined) throw new Error('no record');
    const now = w.clock.now();
    await w.deployments.save(
      revise(d, { cancelRequest: { at: now.toISOString(), by: 'me' } }, now),
    );
    expect(await w.deliver(canaryJob())).toMatchObject({ kind: 'later' });
    expect(await w.deliver(canaryJob())).toEqual({ kind: 'ack' });
    expect(w.commands.cancelled).toEqual(['cmd-1']);
    expect(w.commands.sent).toHaveLength(1);
    const d2 = await w.deployments.get(jobId);
    expect(d2?.status).toBe('Cancelled');
    expect(d2?.reason).toMatch(
      /^cancelled by me at .* during its canary, so the other servers were never attempted; installed on 1 of 2 servers before the command stopped; cancelled on 1: i-00000003$/,
    );
  });

  it('a cancel seen once the canary ended: the rest is not started', async () => {
    const w = workerWorld();
    fleet(w);
    scriptPerCommand(w, [
      [progress('InProgress', []), all(['i-00000002', 'i-00000003'])],
      [all(ids)],
    ]);
    expect(await w.deliver(canaryJob())).toMatchObject({ kind: 'later' });
    await cancel(w);
    expect(await w.deliver(canaryJob())).toEqual({ kind: 'ack' });
    expect(w.commands.sent).toHaveLength(1);
    expect(w.commands.cancelled).toEqual([]);
    const d = await w.deployments.get(jobId);
    expect(d?.status).toBe('Cancelled');
    expect(d?.reason).toMatch(
      /during its canary.*installed on 2 of 2 servers before the command stopped$/,
    );
  });

  it('a cancel between the phases names what the canary installed; nothing more is sent', async () => {
    const w = workerWorld();
    fleet(w);
    scriptPerCommand(w, [[all(['i-00000002', 'i-00000003'])], [all(ids)]]);
    // The rest's send fails once (SSM unavailable): the job waits in Dispatching.
    w.commands.failSend = [
      undefined,
      Object.assign(new Error('down'), {
        name: 'InternalServerError',
        $metadata: { httpStatusCode: 500 },
      }),
    ];
    expect(await w.deliver(canaryJob())).toMatchObject({ kind: 'later' });
    expect((await w.deployments.get(jobId))?.status).toBe('Dispatching');
    await cancel(w);
    w.clock.advance(31_000);
    expect(await w.deliver(canaryJob())).toEqual({ kind: 'ack' });
    expect(w.commands.sent).toHaveLength(1);
    const d = await w.deployments.get(jobId);
    expect(d?.status).toBe('Cancelled');
    expect(d?.reason).toMatch(
      /^cancelled by me at .* after its canary succeeded on i-00000002, i-00000003 \(command cmd-1\): those servers keep the certificate; no command was sent to the others$/,
    );
  });
});

async function cancel(w: World): Promise<void> {
  const d = await w.deployments.get(jobId);
  if (d === undefined) throw new Error('no record');
  const now = w.clock.now();
  await w.deployments.save(revise(d, { cancelRequest: { at: now.toISOString(), by: 'me' } }, now));
}
