import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished } from './helpers.ts';

let system: RunningSystem;
let arn: string;

beforeAll(async () => {
  // The watcher's own looks every 10 minutes: within the test's wait, only Run Command's
  // status-change event (stand-in → EventBridge rule → job queue) can resume the jobs.
  system = await aRunningSystem({
    env: { COMMAND_LOOK_SECONDS: '300', CANCEL_CHECK_SECONDS: '300' },
    countRequests: true,
  });
  arn = await anExportableCertificate(system.clients.acm);
  for (const value of ['events-a', 'events-b']) {
    await anInstance(system.clients.ec2, {
      tags: { env: value, 'standin:behaviour': 'instant', 'standin:run-ms': '1500' },
    });
  }
});

afterAll(async () => {
  await system?.stop();
});

const aJob = (jobId: string, value: string) => ({
  type: 'deploy',
  version: 1,
  jobId,
  certificateArn: arn,
  certName: 'events',
  target: { key: 'env', value },
});

describe("Run Command's status-change events", () => {
  it('resume the jobs waiting for their commands, without a consumer held meanwhile', async () => {
    system.ssmProxy?.reset();
    await enqueue(system, aJob('it-events-0001', 'events-a'));
    await enqueue(system, aJob('it-events-0002', 'events-b'));
    for (const jobId of ['it-events-0001', 'it-events-0002']) {
      const d = await finished(system, jobId, 60_000);
      expect(d.status, d.reason).toBe('Succeeded');
    }
    const lines = system.logLines.join('');
    expect(lines.match(/command ended: resuming its job/g)).toHaveLength(2);
    expect(lines).not.toMatch(/command status event for a job not followed here/);
    // The event gave the status: no ListCommands, one ListCommandInvocations per command (the
    // results the outcome needs in any case).
    expect(system.ssmProxy?.counts.get('AmazonSSM.ListCommands') ?? 0).toBe(0);
    expect(system.ssmProxy?.counts.get('AmazonSSM.ListCommandInvocations')).toBe(2);
    expect(system.ssmProxy?.counts.get('AmazonSSM.SendCommand')).toBe(2);
  });
});
