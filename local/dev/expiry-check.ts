/**
 * `npm run expiry-check`: with `bash local/up.sh` running, fires the daily expiry check by hand,
 * as the stack's EventBridge Scheduler schedule does at 06:00 UTC: the expiry-check message on
 * the job queue. The service's log then shows one line per mapping ("the installed copy expires
 * in N days", the InstalledCertificateDaysToExpiry metric) and "expiry check done" with the
 * minimum (InstalledCertificateMinDaysToExpiry, which the InstalledCertificateExpiring alarm reads).
 */
import { jobQueue } from '../../infra/lib/resource-definitions.ts';
import { sendExpiryCheck } from '../scheduled-runs.ts';
import { localJobQueue } from './local-queue.ts';

const { sqs, queueUrl } = await localJobQueue(process.argv[2]);
const messageId = await sendExpiryCheck(sqs, queueUrl);
console.log(
  `expiry check queued on ${jobQueue.defaultName} (message ${messageId}): the service logs a line per mapping and "expiry check done" with the soonest expiry`,
);
sqs.destroy();
