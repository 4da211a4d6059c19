import { createHash } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { CliEnvironment } from './cli-context.ts';

/**
 * The real environment: process streams, the global fetch, the standard AWS credential chain
 * (environment, SSO, shared files, web identity, container and instance roles), and SQS with
 * the SDK's own endpoint settings (AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL are honoured).
 */
export function processEnvironment(): CliEnvironment {
  return {
    env: process.env,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    fetch: globalThis.fetch,
    credentials: () => fromNodeProviderChain(),
    configuredRegion: async () => {
      const client = new SQSClient({});
      try {
        return await client.config.region();
      } catch {
        return undefined;
      } finally {
        client.destroy();
      }
    },
    sendMessage: async ({ queueUrl, body, region }) => {
      const client = new SQSClient({ region });
      try {
        const fifo = queueUrl.endsWith('.fifo');
        const out = await client.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: body,
            ...(fifo
              ? {
                  MessageGroupId: 'acm-events',
                  MessageDeduplicationId: createHash('sha256').update(body).digest('hex'),
                }
              : {}),
          }),
        );
        return out.MessageId ?? '';
      } finally {
        client.destroy();
      }
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => new Date(),
  };
}
