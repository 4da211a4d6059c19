import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../../src/domain/errors.ts';
import { InMemoryMappingStore } from '../../support/fakes/stores.ts';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  progress,
  workerWorld,
} from '../../support/worker-world.ts';

const server = 'i-0123456789abcdef0';
const key = { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' };

/** A job for one server that just started, as the instance handler queues it. */
const instanceJob = (jobId = 'job-instance-1') =>
  aDeployMessage({ jobId, instanceIds: [server], trigger: 'instance' });

describe('a job for a server that just started', () => {
  it('waits, without the lock, while its SSM agent has not registered, then installs', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: server })])];
    const first = await w.deliver(instanceJob());
    expect(first).toMatchObject({ kind: 'later' });
    if (first.kind !== 'later') throw new Error('not later');
    expect(first.delaySeconds).toBeLessThanOrEqual(30);
    expect(first.why).toMatch(
      /waiting for the SSM Agent on i-0123456789abcdef0 .*not registered yet/,
    );
    const waiting = await w.deployments.get('job-instance-1');
    expect(waiting?.status).toBe('Queued');
    expect(waiting?.conditions).toEqual([
      expect.objectContaining({ type: 'Dispatched', status: 'False', reason: 'WaitingForAgent' }),
    ]);
    expect(w.mappings.lockOf(key)).toBeUndefined();
    expect(w.commands.sent).toHaveLength(0);

    w.clock.advance(30_000);
    w.commands.nodes.set(server, { instanceId: server, pingStatus: 'ConnectionLost' });
    expect(await w.deliver(instanceJob())).toMatchObject({ kind: 'later' });

    w.clock.advance(30_000);
    w.commands.online(server);
    expect(await w.deliver(instanceJob())).toEqual({ kind: 'ack' });
    expect((await w.deployments.get('job-instance-1'))?.status).toBe('Succeeded');
    expect(w.commands.sent.map((c) => c.instanceIds)).toEqual([[server]]);
  });

  it('fails, naming the server, when its agent is still not online after AGENT_WAIT_SECONDS', async () => {
    const w = workerWorld({ agentWaitSeconds: 120 });
    expect(await w.deliver(instanceJob())).toMatchObject({ kind: 'later' });
    w.clock.advance(121_000);
    expect(await w.deliver(instanceJob())).toEqual({ kind: 'ack' });
    const d = await w.deployments.get('job-instance-1');
    expect(d?.status).toBe('Failed');
    expect(d?.reason).toMatch(
      /the SSM Agent on i-0123456789abcdef0 did not come online within 120 s \(i-0123456789abcdef0: not registered yet\)/,
    );
    expect(w.commands.sent).toHaveLength(0);
  });

  it('ends at once, naming the server, when EC2 says it stopped or was terminated', async () => {
    const w = workerWorld();
    w.instances.add(server, { env: 'dev' });
    expect(await w.deliver(instanceJob())).toMatchObject({ kind: 'later' });
    w.clock.advance(10_000);
    w.instances.add(server, { env: 'dev' }, 'terminated');
    expect(await w.deliver(instanceJob())).toEqual({ kind: 'ack' });
    const d = await w.deployments.get('job-instance-1');
    expect(d?.status).toBe('Failed');
    expect(d?.reason).toMatch(/i-0123456789abcdef0 \(terminated\) no longer running/);
    expect(w.commands.sent).toHaveLength(0);
    expect(w.mappings.lockOf(key)).toBeUndefined();
  });

  it('keeps waiting for a server EC2 does not know yet (eventual consistency after launch)', async () => {
    const w = workerWorld();
    expect(await w.deliver(instanceJob())).toMatchObject({ kind: 'later' });
    w.instances.add(server, { env: 'dev' }, 'pending');
    w.clock.advance(10_000);
    expect(await w.deliver(instanceJob())).toMatchObject({ kind: 'later' });
    expect((await w.deployments.get('job-instance-1'))?.status).toBe('Queued');
  });

  it('fails at once, naming the version it needs, on an agent too old for the document', async () => {
    const w = workerWorld();
    w.commands.nodes.set(server, {
      instanceId: server,
      pingStatus: 'Online',
      agentVersion: '3.2.582.0',
    });
    expect(await w.deliver(instanceJob())).toEqual({ kind: 'ack' });
    const d = await w.deployments.get('job-instance-1');
    expect(d?.status).toBe('Failed');
    expect(d?.reason).toMatch(/i-0123456789abcdef0 \(3\.2\.582\.0\) is older than 3\.3\.2746\.0/);
    expect(w.certificates.exports).toHaveLength(0);
  });

  it('sends again, not Failed, when Run Command does not know the server yet (InvalidInstanceId)', async () => {
    const w = workerWorld();
    w.commands.online(server);
    w.commands.failSend = [new TerminalError('InvalidTarget', 'SSM InvalidInstanceId sending')];
    w.commands.script = [progress('Success', [anInvocation({ instanceId: server })])];
    const first = await w.deliver(instanceJob());
    expect(first).toMatchObject({ kind: 'later', why: expect.stringMatching(/InvalidInstanceId/) });
    const between = await w.deployments.get('job-instance-1');
    expect(between?.status).toBe('Dispatching');
    expect(between?.dispatchStartedAt).toBeUndefined();
    w.clock.advance(20_000);
    expect(await w.deliver(instanceJob())).toEqual({ kind: 'ack' });
    expect((await w.deployments.get('job-instance-1'))?.status).toBe('Succeeded');
    expect(w.commands.sent).toHaveLength(1);
    // The job exported once; the resend read its secret version back.
    expect(w.certificates.exports).toHaveLength(1);
  });

  it('still fails a tag-targeted job on InvalidInstanceId-like errors (nothing to wait for)', async () => {
    const w = workerWorld();
    w.commands.failSend = [new TerminalError('InvalidTarget', 'SSM InvalidInstanceId sending')];
    expect(await w.deliver(aDeployMessage())).toEqual({ kind: 'ack' });
    expect((await w.deployments.get('job-00000001'))?.status).toBe('Failed');
  });
});

describe('a server starting after its mapping asked for a PKCS#12 file', () => {
  it('exports again when the installed version has no PKCS#12 password; reuses one that has', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage({ install: { formats: ['combined'] } }), 'msg-first');
    expect(w.certificates.exports).toHaveLength(1);
    // The mapping now asks for a .p12 (as a request whose job never got to export leaves it).
    const stored = w.mappings.items.get(InMemoryMappingStore.keyString(key));
    if (stored === undefined) throw new Error('no mapping');
    w.mappings.items.set(InMemoryMappingStore.keyString(key), {
      ...stored,
      mapping: { ...stored.mapping, install: { formats: ['combined', 'pkcs12'] } },
    });

    w.commands.online(server);
    w.commands.script = [progress('Success', [anInvocation({ instanceId: server })])];
    await w.deliver(instanceJob('job-instance-1'), 'msg-1');
    const d = await w.deployments.get('job-instance-1');
    expect(d?.status).toBe('Succeeded');
    expect(d?.conditions.find((c) => c.type === 'Exported')?.reason).toBe('Exported');
    expect(w.certificates.exports).toHaveLength(2);
    const text = (await w.secrets.getVersion(d?.secretArn ?? '', d?.secretVersionId ?? '')).value;
    expect(text.reveal()).toMatch(/^pkcs12-password: [A-Za-z0-9]{40}$/m);
    expect(w.commands.sent.at(-1)?.parameters.Formats).toBe('combined,pkcs12');

    // The next server reuses that version: it has the password.
    w.commands.script = [progress('Success', [anInvocation({ instanceId: server })])];
    await w.deliver(instanceJob('job-instance-2'), 'msg-2');
    const next = await w.deployments.get('job-instance-2');
    expect(next?.conditions.find((c) => c.type === 'Exported')?.reason).toBe('ReusedExport');
    expect(w.certificates.exports).toHaveLength(2);
  });
});

describe('a burst of servers starting while the certificate is unchanged', () => {
  it('reuses the export and secret version installed before: no export, no new version', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage(), 'msg-first');
    const first = await w.deployments.get('job-00000001');
    expect(first?.status).toBe('Succeeded');
    const versionsAfterDeploy = w.secrets.puts.length;
    expect(w.certificates.exports).toHaveLength(1);

    const servers = Array.from(
      { length: 20 },
      (_, i) => `i-0000000000000${String(i).padStart(4, '0')}`,
    );
    for (const [i, id] of servers.entries()) {
      w.commands.online(id);
      w.commands.script = [progress('Success', [anInvocation({ instanceId: id })])];
      const jobId = `job-burst-${String(i).padStart(4, '0')}`;
      expect(
        await w.deliver(
          aDeployMessage({ jobId, instanceIds: [id], trigger: 'instance' }),
          `msg-burst-${i}`,
        ),
      ).toEqual({ kind: 'ack' });
      const d = await w.deployments.get(jobId);
      expect(d?.status).toBe('Succeeded');
      expect(d?.secretVersionId).toBe(first?.secretVersionId);
      expect(d?.conditions.find((c) => c.type === 'Exported')?.reason).toBe('ReusedExport');
    }
    expect(w.certificates.exports).toHaveLength(1);
    expect(w.secrets.puts).toHaveLength(versionsAfterDeploy);
    // Every command named the same secret version, and carried the same certificate.
    expect(new Set(w.commands.sent.map((c) => c.parameters.SecretVersionId)).size).toBe(1);
  });

  it('exports anew when ACM renewed the certificate since the last install', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage(), 'msg-first');
    const entry = w.certificates.certificates.get(arnA);
    if (entry === undefined) throw new Error('fixture');
    w.certificates.add({ ...entry.description, serial: '02' }, entry.bundle);
    w.commands.online(server);
    w.commands.script = [progress('Success', [anInvocation({ instanceId: server })])];
    await w.deliver(instanceJob(), 'msg-instance');
    expect(w.certificates.exports).toHaveLength(2);
    expect((await w.deployments.get('job-instance-1'))?.conditions[0]?.reason).not.toBe(
      'ReusedExport',
    );
  });
});
