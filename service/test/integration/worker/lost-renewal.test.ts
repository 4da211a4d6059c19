import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameSerial } from '../../../src/worker/certificate-info.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import {
  enqueue,
  finished,
  installedFile,
  jobsStartedBy,
  renewWithoutEvent,
  serialOf,
} from './helpers.ts';

// ACM delivers events best effort. A renewal whose event is lost is caught by ACM's daily
// "Approaching Expiration" event: the mapping still holds the old serial, so it is deployed again.
let system: RunningSystem;

beforeAll(async () => {
  system = await aRunningSystem();
});

afterAll(async () => {
  await system?.stop();
});

describe('a renewal whose event was lost', () => {
  it('is installed when ACM next says the certificate approaches expiration', async () => {
    const arn = await anExportableCertificate(system.clients.acm);
    const server = await anInstance(system.clients.ec2, { tags: { env: 'lost' } });
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-lost-first',
      certificateArn: arn,
      certName: 'lost',
      target: { key: 'env', value: 'lost' },
    });
    expect((await finished(system, 'it-lost-first')).status).toBe('Succeeded');

    const renewed = await renewWithoutEvent(system, arn);
    expect(await jobsStartedBy(system, arn, 'renewal', 1, 3_000)).toEqual([]);
    const installedBefore = serialOf(
      (await installedFile(system, server, 'etc/ssl/certs/lost-fullchain.pem')).text,
    );
    expect(sameSerial(installedBefore, renewed)).toBe(false);

    // ACM's daily event (a test source: only AWS may publish aws.acm).
    await system.clients.eventbridge.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'test.acm',
            DetailType: 'ACM Certificate Approaching Expiration',
            Resources: [arn],
            Detail: JSON.stringify({ DaysToExpiry: 30, CommonName: 'lost.example.com' }),
          },
        ],
      }),
    );
    const [job] = await jobsStartedBy(system, arn, 'renewal', 1, 60_000);
    expect(job, 'no deployment started from the expiration event').toBeDefined();
    const d = await finished(system, job as string, 60_000);
    expect(d.status, d.reason).toBe('Succeeded');
    const installedAfter = serialOf(
      (await installedFile(system, server, 'etc/ssl/certs/lost-fullchain.pem')).text,
    );
    expect(sameSerial(installedAfter, renewed)).toBe(true);
  }, 150_000);
});
