/**
 * `npm run expiry-check`: with `bash local/up.sh` running, fires the daily expiry check by hand,
 * as the stack's EventBridge Scheduler schedule does at 06:00 UTC: the expiry-check message on
 * the job queue. The service's log then shows one line per mapping ("the installed copy expires
 * in N days", the InstalledCertificateDaysToExpiry metric) and "expiry check done" with the
 * minimum (InstalledCertificateMinDaysToExpiry, which the InstalledCertificateExpiring alarm reads).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { jobQueue } from '../../infra/lib/resource-definitions.ts';
import { stateDir } from '../paths.ts';
import { sendExpiryCheck } from '../scheduled-runs.ts';

const dir = process.argv[2] ?? join(stateDir, 'local');
const demoFile = join(dir, 'demo.json');
if (!existsSync(demoFile)) {
  console.error(`${demoFile} not found: start the local run first with "bash local/up.sh"`);
  process.exit(2);
}
const { motoEndpoint } = JSON.parse(readFileSync(demoFile, 'utf8')) as { motoEndpoint: string };
const sqs = new SQSClient({
  region: 'us-east-1',
  endpoint: motoEndpoint,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: jobQueue.defaultName }));
if (QueueUrl === undefined) throw new Error(`no queue ${jobQueue.defaultName}`);
const messageId = await sendExpiryCheck(sqs, QueueUrl);
console.log(
  `expiry check queued on ${jobQueue.defaultName} (message ${messageId}): the service logs a line per mapping and "expiry check done" with the soonest expiry`,
);
sqs.destroy();
