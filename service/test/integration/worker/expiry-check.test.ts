import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendExpiryCheck } from '../../../../local/scheduled-runs.ts';
import { daysToExpiry } from '../../../src/worker/expiry-check-handler.ts';
import {
  installedDaysToExpiryMetric,
  installedMinDaysToExpiryMetric,
} from '../../../src/worker/metrics.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished } from './helpers.ts';

// The daily expiry check on the bed: the message its schedule sends (local/scheduled-runs.ts),
// the worker's real Scan of the mappings table (evaluated against the task role in both API
// modes), and the EMF lines CloudWatch would turn into the metrics the alarm reads.

type Line = Record<string, unknown> & { msg: string };

let system: RunningSystem;
let arn: string;
/** A target value of this file alone: the table is shared with the other test files. */
const target = `expiry-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  system = await aRunningSystem();
  arn = await anExportableCertificate(system.clients.acm);
  await anInstance(system.clients.ec2, { tags: { env: target } });
});

afterAll(async () => {
  await system?.stop();
});

function lines(): Line[] {
  return system.logLines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Line];
    } catch {
      return [];
    }
  });
}

/** Fires the check as its schedule would; waits for its last line, returns all of its lines. */
async function runExpiryCheck(): Promise<Line[]> {
  const messageId = await sendExpiryCheck(system.clients.sqs, system.provisioned.queueUrl);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const mine = lines().filter((l) => l.expiryCheck === messageId);
    if (mine.some((l) => String(l.msg).startsWith('expiry check done'))) return mine;
    if (Date.now() > deadline) throw new Error(`expiry check ${messageId} did not finish`);
    await sleep(100);
  }
}

describe('the daily expiry check on the bed', () => {
  it('writes the days until a deployed copy expires, and the minimum over every mapping', async () => {
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: `it-expiry-${target}`,
      certificateArn: arn,
      certName: 'expiring',
      target: { key: 'env', value: target },
    });
    const d = await finished(system, `it-expiry-${target}`);
    expect(d.status, d.reason).toBe('Succeeded');
    const notAfter = d.certificate?.notAfter;

    const checked = await runExpiryCheck();
    const mine = checked.find((l) => l.target === `env=${target}` && l.certName === 'expiring');
    const days = daysToExpiry(notAfter, new Date());
    expect(days).toBeGreaterThan(0);
    // The check ran moments ago: the same whole number of days, unless midnight of the copy's
    // validity fell in between.
    expect(mine?.[installedDaysToExpiryMetric]).toBeGreaterThanOrEqual((days as number) - 1);
    expect(mine?.[installedDaysToExpiryMetric]).toBeLessThanOrEqual(days as number);
    expect(mine).toMatchObject({ certificateArn: arn, notAfter, serial: d.certificate?.serial });

    const done = checked.find((l) => String(l.msg).startsWith('expiry check done'));
    expect(done?.[installedMinDaysToExpiryMetric]).toBeLessThanOrEqual(
      mine?.[installedDaysToExpiryMetric] as number,
    );
    expect(done?._aws).toMatchObject({
      CloudWatchMetrics: [{ Metrics: [{ Name: installedMinDaysToExpiryMetric }] }],
    });
  });

  it('reads a mapping the original sample wrote, its installed copy’s expiry from CertExpiryDate', async () => {
    // The sample's item, attribute for attribute (sample-acm-export-cert-automation,
    // updtDBstrtSSMdoc.py): Python's isoformat() of an aware datetime, plus "Z".
    const sampleArn = `arn:aws:acm:us-east-1:123456789012:certificate/${randomUUID()}`;
    const expiry = new Date(Date.now() + 5 * 86_400_000 + 3_600_000);
    await system.clients.dynamodb.send(
      new PutCommand({
        TableName: system.provisioned.names.mappingTable,
        Item: {
          TagKeyValue: `env#${target}`,
          'CertificateArn#CertName': `${sampleArn}#legacy`,
          CertificateArn: sampleArn,
          CertName: 'legacy',
          TargetTagKey: 'env',
          TargetTagValue: target,
          PassphraseSecretName: 'acm-passphrase/legacy',
          CertExpiryDate: `${expiry.toISOString().slice(0, 19)}+00:00Z`,
          LastExportedDate: '2026-01-01T00:00:00.000000Z',
        },
      }),
    );
    const checked = await runExpiryCheck();
    const sample = checked.find((l) => l.certificateArn === sampleArn);
    expect(sample).toMatchObject({
      certName: 'legacy',
      target: `env=${target}`,
      [installedDaysToExpiryMetric]: 5,
    });
    const done = checked.find((l) => String(l.msg).startsWith('expiry check done'));
    expect(done?.[installedMinDaysToExpiryMetric]).toBeLessThanOrEqual(5);
  });
});
