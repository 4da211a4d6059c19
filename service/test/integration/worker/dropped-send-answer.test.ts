import { setTimeout as sleep } from 'node:timers/promises';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsProxy, startAwsProxy } from '../../../../local/aws-proxy/aws-proxy.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished } from './helpers.ts';
import { commandsFor, startWorkerProcess, type WorkerProcess } from './worker-processes.ts';

// SendCommand has no idempotency token: when the connection drops after Run Command accepted a
// command, a blind retry (the SDK's or the service's) sends the install a second time. A worker
// process whose Run Command calls pass a fault proxy: its SendCommand connections dropped, the
// proxy's random draws scripted, every other Run Command call spared. The stand-in lists a new
// command only after `listedAfterMs`, longer than the adapter's looks (7 s): as in the soak,
// where a command taken while the stand-in's API restarted was listed late and sent again.

const listedAfterMs = 10_000;

let system: RunningSystem;
let proxy: AwsProxy;
let arn: string;
/** The proxy's next draws; 0.99 (no fault) once used up. */
let draws: number[] = [];
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  system = await aRunningSystem({ worker: false, timing: { listedAfterMs } });
  proxy = await startAwsProxy({
    target: system.standIn.server.endpoint,
    random: () => draws.shift() ?? 0.99,
    neverFault: [
      'AmazonSSM.ListCommands',
      'AmazonSSM.ListCommandInvocations',
      'AmazonSSM.DescribeInstanceInformation',
      'AmazonSSM.CancelCommand',
    ],
  });
  arn = await anExportableCertificate(system.clients.acm);
  await anInstance(system.clients.ec2, { tags: { env: 'dropped' } });
  worker = startWorkerProcess(system, {
    AWS_ENDPOINT_URL_SSM: proxy.endpoint,
    AWS_MAX_ATTEMPTS: '3',
    LOG_LEVEL: 'info',
  });
});

afterEach(() => {
  draws = [];
  proxy.setFaults({});
  proxy.reset();
});

afterAll(async () => {
  if (worker?.exitCode === null) worker.kill('SIGKILL');
  await proxy?.stop();
  await system?.stop();
});

const job = (jobId: string) => ({
  type: 'deploy',
  version: 1,
  jobId,
  certificateArn: arn,
  certName: jobId,
  target: { key: 'env', value: 'dropped' },
});

describe('a SendCommand whose connection drops', () => {
  it('after Run Command accepted it, listed only after the looks: the job follows that command, none is sent again', async () => {
    // The proxy drops before forwarding and after the target answered in turn: a SendCommand of
    // the test's own takes the first turn (Run Command never sees it), so the worker's first
    // SendCommand is answered by nobody after the stand-in accepted it.
    proxy.setFaults({ drop: 0.5 });
    const ssm = new SSMClient({ region: 'us-east-1', endpoint: proxy.endpoint, maxAttempts: 1 });
    draws = [0.1];
    await expect(
      ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [] })),
    ).rejects.toMatchObject({ code: 'ECONNRESET' });
    ssm.destroy();
    expect(proxy.faultTotals.get('drop-before')).toBe(1);

    draws = [0.1];
    await enqueue(system, job('it-dropped-after'));
    const d = await finished(system, 'it-dropped-after', 180_000);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(proxy.faults.get('drop-after AmazonSSM.SendCommand')).toBe(1);
    await sleep(listedAfterMs); // every command sent is listed by now
    const commands = await commandsFor(system, 'it-dropped-after');
    expect(commands).toHaveLength(1);
    expect(d.commandId).toBe(commands[0]?.CommandId);
  }, 240_000);

  it('before Run Command saw it: looked for, not found, sent again once it would have been listed', async () => {
    proxy.setFaults({ drop: 0.5 });
    draws = [0.1];
    await enqueue(system, job('it-dropped-before'));
    const d = await finished(system, 'it-dropped-before', 180_000);
    expect(d.status, d.reason).toBe('Succeeded');
    expect(proxy.faults.get('drop-before AmazonSSM.SendCommand')).toBe(1);
    expect(proxy.counts.get('AmazonSSM.SendCommand')).toBe(1);
    await sleep(listedAfterMs); // every command sent is listed by now
    const commands = await commandsFor(system, 'it-dropped-before');
    expect(commands).toHaveLength(1);
    expect(d.commandId).toBe(commands[0]?.CommandId);
  }, 240_000);
});
