import { describe, expect, it } from 'vitest';
import { anInstanceStateEvent } from '../../support/builders/acm-events.ts';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  progress,
  workerWorld,
} from '../../support/worker-world.ts';

const server = 'i-0123456789abcdef0';

async function worldWithMappings() {
  const w = workerWorld();
  for (const [value, certName] of [
    ['dev', 'web'],
    ['dev', 'api'],
    ['prod', 'web'],
  ] as const) {
    await w.mappings.put({
      certificateArn: arnA,
      certName,
      target: { key: 'env', value },
      install: certName === 'api' ? { reloadCommand: 'systemctl reload nginx' } : {},
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    });
  }
  return w;
}

describe('a server that starts', () => {
  it('gets every certificate mapped to one of its tags, on that server alone, after a delay', async () => {
    const w = await worldWithMappings();
    w.instances.add(server, { env: 'dev', Name: 'web-7', 'aws:autoscaling:groupName': 'asg' });
    const event = anInstanceStateEvent({ instanceId: server });
    expect(await w.deliver(event)).toEqual({ kind: 'ack' });
    expect(
      w.queue.messages.map((m) => [m.certName, m.target.value, m.instanceIds, m.trigger]),
    ).toEqual([
      ['web', 'dev', [server], 'instance'],
      ['api', 'dev', [server], 'instance'],
    ]);
    expect(w.queue.messages[1]?.install).toEqual({ reloadCommand: 'systemctl reload nginx' });
    expect(w.queue.delays).toEqual([60, 60]);
  });

  it('makes the same jobs from a duplicate event', async () => {
    const w = await worldWithMappings();
    w.instances.add(server, { env: 'dev' });
    const event = anInstanceStateEvent({ instanceId: server });
    await w.deliver(event, 'a');
    await w.deliver(event, 'b');
    expect(w.queue.messages.map((m) => m.jobId).slice(0, 2)).toEqual(
      w.queue.messages.map((m) => m.jobId).slice(2),
    );
  });

  it.each([
    ['a state other than running', { state: 'stopping' }, { env: 'dev' }, 'running'],
    ['an instance EC2 no longer runs', {}, { env: 'dev' }, 'stopped'],
    ['an instance with no mapped tag', {}, { env: 'staging' }, 'running'],
  ])('ignores %s', async (_, eventOverrides, tags, state) => {
    const w = await worldWithMappings();
    w.instances.add(server, tags, state);
    expect(
      await w.deliver(anInstanceStateEvent({ instanceId: server, ...eventOverrides })),
    ).toEqual({ kind: 'ack' });
    expect(w.queue.messages).toHaveLength(0);
  });

  it('dead-letters an event with a malformed instance id', async () => {
    const w = await worldWithMappings();
    expect(await w.deliver(anInstanceStateEvent({ instanceId: '../etc' }))).toMatchObject({
      kind: 'dead-letter',
      reason: expect.stringMatching(/invalid EC2 state-change event: \/detail\/instance-id/),
    });
  });

  it('installs only on the listed servers: SendCommand by InstanceIds, not by tag', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: server })])];
    w.commands.online(server);
    await w.deliver(aDeployMessage({ instanceIds: [server], trigger: 'instance' }));
    expect(w.commands.sent[0]?.instanceIds).toEqual([server]);
    expect((await w.deployments.get('job-00000001'))?.status).toBe('Succeeded');
  });
});
