import { describe, expect, it } from 'vitest';
import { aDeployMessage, arnA, workerWorld } from '../../support/worker-world.ts';

describe('jobs the service policy refuses, whoever queued them', () => {
  it.each([
    [
      'a target tag key the stack does not use',
      { target: { key: 'team', value: 'web' } },
      /\/target\/key "team" is not a target tag key of this service \(TARGET_TAG_KEYS: env\)/,
    ],
    [
      'a key AWS reserves',
      { target: { key: 'aws:autoscaling:groupName', value: 'asg' } },
      /\/target\/key "aws:autoscaling:groupName" is reserved by AWS/,
    ],
    [
      'a reload command the operator did not allow',
      { install: { reloadCommand: '/usr/bin/systemctl restart sshd' } },
      /\/install\/reloadCommand "\/usr\/bin\/systemctl restart sshd" is not one of this service's reload commands/,
    ],
  ])('moves %s to the dead-letter queue with the reason, doing nothing', async (_, o, reason) => {
    const w = workerWorld();
    const outcome = await w.deliver(aDeployMessage(o));
    expect(outcome).toMatchObject({ kind: 'dead-letter', reason: expect.stringMatching(reason) });
    expect(w.certificates.exports).toHaveLength(0);
    expect(w.commands.sent).toHaveLength(0);
    expect(w.mappings.items.size).toBe(0);
  });

  it('ends a recorded job Failed with the same reason (the API recorded it before the policy changed)', async () => {
    const w = workerWorld({
      policy: {
        targetTagKeys: ['role'],
        allowedReloadCommands: [],
        certificateRegions: ['us-east-1'],
      },
    });
    await w.deployments.create({
      job: {
        jobId: 'job-00000001',
        certificateArn: arnA,
        certName: 'web',
        target: { key: 'env', value: 'dev' },
        install: {},
        trigger: 'api',
      },
      status: 'Queued',
      conditions: [],
      attempts: 0,
      failures: 0,
      createdAt: '2026-11-27T00:00:00.000Z',
      updatedAt: '2026-11-27T00:00:00.000Z',
      version: 1,
    });
    expect(await w.deliver(aDeployMessage())).toMatchObject({ kind: 'dead-letter' });
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('Failed');
    expect(d?.reason).toMatch(/TARGET_TAG_KEYS: role/);
  });

  it('lets an allowed reload command through, compared word by word', async () => {
    const w = workerWorld();
    const outcome = await w.deliver(
      aDeployMessage({ install: { reloadCommand: '/usr/sbin/nginx  -s reload' } }),
    );
    expect(outcome.kind).not.toBe('dead-letter');
  });
});
