/**
 * The running local run's job queue, for the scripts that put a scheduled message on it by hand
 * (`npm run expiry-check`, `npm run reconcile`): the emulator endpoint from `<dir>/demo.json`,
 * which `bash local/up.sh` writes; exits 2 with what to do when the local run is not up.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { jobQueue } from '../../infra/lib/resource-definitions.ts';
import { stateDir } from '../paths.ts';

export async function localJobQueue(
  dir: string = join(stateDir, 'local'),
): Promise<{ sqs: SQSClient; queueUrl: string }> {
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
  return { sqs, queueUrl: QueueUrl };
}
