import { describe, expect, it } from 'vitest';
import { exportSecretName } from '../../../src/domain/export-secret-name.ts';
import { aCertificateAvailableEvent } from '../../support/builders/acm-events.ts';
import {
  aDeployMessage,
  anInvocation,
  arnA,
  progress,
  workerWorld,
} from '../../support/worker-world.ts';

const key = { target: { key: 'env', value: 'dev' }, certificateArn: arnA, certName: 'web' };
const options = { keyMode: '640', group: 'haproxy', reloadCommand: '/usr/sbin/nginx -s reload' };

describe('what a mapping records when its first job starts', () => {
  it('keeps the install options and the secret after a failed first deployment', async () => {
    const w = workerWorld();
    w.commands.script = [
      progress('Failed', [
        anInvocation({
          instanceId: 'i-1',
          status: 'Failed',
          statusDetails: 'Failed',
          responseCode: 15,
        }),
      ]),
    ];
    await w.deliver(aDeployMessage({ install: options }));
    const first = await w.deployments.get('job-00000001');
    expect(first?.status).toBe('Failed');
    const mapping = await w.mappings.get(key);
    expect(mapping?.install).toEqual(options);
    expect(mapping?.secretArn).toBe(first?.secretArn);
    expect(mapping?.serial).toBeUndefined();

    // A renewal then installs the way the first request asked.
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aCertificateAvailableEvent({ certificateArn: arnA }), 'msg-event');
    const [renewal] = w.queue.messages;
    expect(renewal?.install).toEqual(options);
    await w.deliver(renewal, 'msg-renewal');
    const sent = w.commands.sent.at(-1);
    expect(sent?.parameters).toMatchObject({
      KeyMode: '640',
      Group: 'haproxy',
      ReloadCommand: '/usr/sbin/nginx -s reload',
    });
  });

  it('writes nothing to the mapping mid-job: stop-managing derives the secret’s name', async () => {
    const w = workerWorld();
    w.commands.script = [progress('InProgress', [])];
    await w.deliver(aDeployMessage());
    const d = await w.deployments.get('job-00000001');
    expect(d?.status).toBe('Running');
    // No write of its own for the secret: the mapping learns it when the job ends.
    expect((await w.mappings.get(key))?.secretArn).toBeUndefined();
    const name = exportSecretName('acm-passphrase/', key);
    expect(w.secrets.secrets.get(name)?.arn).toBe(d?.secretArn);
  });

  it('keeps the mapping’s options when a later job asks for none', async () => {
    const w = workerWorld();
    w.commands.script = [progress('Success', [anInvocation({ instanceId: 'i-1' })])];
    await w.deliver(aDeployMessage({ install: options }), 'm1');
    await w.deliver(aDeployMessage({ jobId: 'job-00000002' }), 'm2');
    expect((await w.mappings.get(key))?.install).toEqual(options);
    expect(w.commands.sent.at(-1)?.parameters.KeyMode).toBe('640');
  });
});
