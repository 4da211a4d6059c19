import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { CliEnvironment } from './cli-context.ts';
import { type StateFile, statePath } from './job-ids.ts';

/**
 * A state file under $XDG_STATE_HOME/acm-cert-export (or ~/.local/state): the directory mode 700,
 * the file 600, written whole through a temporary file and a rename. Without a home: nothing kept.
 */
export function stateFileAt(path: string | undefined): StateFile {
  return {
    read: async () => {
      if (path === undefined) return undefined;
      try {
        return await readFile(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    write: async (text) => {
      if (path === undefined) return;
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, text, { mode: 0o600 });
      await chmod(temporary, 0o600);
      await rename(temporary, path);
    },
  };
}

/**
 * The real environment: process streams, the global fetch, the standard AWS credential chain
 * (environment, SSO, shared files, web identity, container and instance roles), and SQS with
 * the SDK's own endpoint settings (AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL are honoured), the
 * system's time zone, and the state files.
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
    write: (text) => process.stdout.write(text),
    stdoutIsTTY: process.stdout.isTTY === true,
    timeZone: undefined,
    stateFile: (name) => stateFileAt(statePath(process.env, name)),
  };
}
