/**
 * `npm run reconcile [-- --verify]`: with `bash local/up.sh` running, fires the reconciliation
 * sweep by hand, as the stack's EventBridge Scheduler schedule does hourly (with `--verify`, the
 * daily verify sweep): the reconcile message on the job queue. The service's log then shows
 * "reconciliation sweep: N mappings queued" and one "reconcile: …" line per mapping with what it
 * found and the jobs it queued (follow those with the CLI's status command).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { jobQueue } from '../../infra/lib/resource-definitions.ts';
import { stateDir } from '../paths.ts';
import { sendReconcile } from '../scheduled-runs.ts';

const { values, positionals } = parseArgs({
  options: { verify: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const dir = positionals[0] ?? join(stateDir, 'local');
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
const messageId = await sendReconcile(sqs, QueueUrl, { verify: values.verify });
console.log(
  `${values.verify ? 'verify' : 'reconciliation'} sweep queued on ${jobQueue.defaultName} (message ${messageId}): the service logs "reconciliation sweep: N mappings queued", then a "reconcile: …" line per mapping with what it found and the jobs it queued`,
);
sqs.destroy();
