/**
 * `npm run reconcile [-- --verify]`: with `bash local/up.sh` running, fires the reconciliation
 * sweep by hand, as the stack's EventBridge Scheduler schedule does hourly (with `--verify`, the
 * daily verify sweep): the reconcile message on the job queue. The service's log then shows
 * "reconciliation sweep: N mappings queued" and one "reconcile: …" line per mapping with what it
 * found and the jobs it queued (follow those with the CLI's status command).
 */
import { parseArgs } from 'node:util';
import { jobQueue } from '../../infra/lib/resource-definitions.ts';
import { sendReconcile } from '../scheduled-runs.ts';
import { localJobQueue } from './local-queue.ts';

const { values, positionals } = parseArgs({
  options: { verify: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const { sqs, queueUrl } = await localJobQueue(positionals[0]);
const messageId = await sendReconcile(sqs, queueUrl, { verify: values.verify });
console.log(
  `${values.verify ? 'verify' : 'reconciliation'} sweep queued on ${jobQueue.defaultName} (message ${messageId}): the service logs "reconciliation sweep: N mappings queued", then a "reconcile: …" line per mapping with what it found and the jobs it queued`,
);
sqs.destroy();
