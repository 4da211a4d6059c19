import { describe, expect, it } from 'vitest';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  crashOnceAfterSendCommand,
  progress,
  workerWorld,
} from '../../support/worker-world.ts';

type Line = Record<string, unknown> & { level: string; msg: string };

function lines(w: { logLines: string[] }): Line[] {
  return w.logLines.map((l) => JSON.parse(l) as Line);
}

describe('the job log tells the truth', () => {
  it('says a resumed job found the command sent before the crash, and never "sent" twice', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    // The first pickup dies right after SendCommand.
    crashOnceAfterSendCommand(w);
    await w.deliver(aDeployMessage(), 'msg-1', 1);
    await w.deliver(aDeployMessage(), 'msg-1', 2);
    const messages = lines(w).map((l) => l.msg);
    // The first pickup died right after SendCommand, before it could record or log it.
    expect(messages).not.toContain('install command sent');
    const found = 'found the install command sent before the previous attempt stopped';
    expect(messages.filter((m) => m === found)).toHaveLength(1);
    expect(w.commands.sent).toHaveLength(1);
  });

  it.each([
    ['Succeeded', progress('Success', [anInvocation({ instanceId: 'i-1' })]), 'info'],
    [
      'PartiallyFailed',
      progress('Failed', [
        anInvocation({ instanceId: 'i-1' }),
        anInvocation({
          instanceId: 'i-2',
          status: 'Failed',
          statusDetails: 'Failed',
          responseCode: 12,
        }),
      ]),
      'warn',
    ],
    [
      'NoTargets',
      progress('Success', [], { statusDetails: 'NoInstancesInTag', targetCount: 0 }),
      'warn',
    ],
    [
      'Failed',
      progress('Failed', [
        anInvocation({
          instanceId: 'i-1',
          status: 'Failed',
          statusDetails: 'Failed',
          responseCode: 11,
        }),
      ]),
      'error',
    ],
  ])(
    'logs a %s outcome once, at %s, with the job, certificate and target',
    async (status, p, level) => {
      const w = workerWorld();
      w.commands.script = [p];
      await w.deliver(aDeployMessage());
      const outcome = lines(w).filter(
        (l) => typeof l.msg === 'string' && l.msg.startsWith('deployment '),
      );
      expect(outcome).toHaveLength(1);
      expect(outcome[0]).toMatchObject({
        level,
        status,
        jobId: 'job-00000001',
        certificateArn: arnA,
        certName: 'web',
        target: 'env=dev',
        Deployments: 1,
        Outcome: status,
      });
      // The line is a CloudWatch metric (EMF), the one the stack's alarm of this outcome reads.
      expect(outcome[0]?._aws).toMatchObject({
        CloudWatchMetrics: [
          {
            Namespace: 'AcmCertExport',
            Dimensions: [['Outcome']],
            Metrics: [{ Name: 'Deployments', Unit: 'Count' }],
          },
        ],
      });
      // And counted once through the metrics port (Prometheus), with the job's duration.
      expect(w.metrics.deployments).toEqual([{ outcome: status, seconds: expect.any(Number) }]);
    },
  );

  it('logs a TimedOut outcome at warn', async () => {
    const w = workerWorld();
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage(), 'm', 1);
    w.clock.advance(3601_000);
    await w.deliver(aDeployMessage(), 'm', 2);
    const outcome = lines(w).find((l) => l.msg.startsWith('deployment TimedOut'));
    expect(outcome).toMatchObject({ level: 'warn', jobId: 'job-00000001' });
  });
});
