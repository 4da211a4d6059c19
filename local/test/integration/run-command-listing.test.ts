import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListCommandsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import {
  type StartedRunCommandServer,
  startRunCommandServer,
} from '../../run-command/run-command-server.ts';
import { createProbeDocument, pollUntil, probeDocumentName } from '../support/stand-in.ts';

// `listedAfterMs`: a command Run Command took is left out of ListCommands for a while (a send
// whose answer was lost may be listed only after its sender looked for it). Asked for by its
// id, it is there at once.

const listedAfterMs = 3_000;
let stateDir: string;
let server: StartedRunCommandServer;
let ssm: SSMClient;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'run-command-listing-'));
  server = await startRunCommandServer({
    motoEndpoint: process.env.AWS_ENDPOINT_URL as string,
    stateDir,
    timing: { invisibleMs: 100, deliveryMs: 50, listedAfterMs },
  });
  ssm = new SSMClient({ region: 'us-east-1', endpoint: server.endpoint, maxAttempts: 1 });
  await createProbeDocument(ssm);
});

afterAll(async () => {
  ssm?.destroy();
  await server?.stop();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

describe('the stand-in listing a command late (listedAfterMs)', () => {
  it('leaves a new command out of ListCommands until then, but answers for it by id', async () => {
    const { ec2 } = testClients();
    await anInstance(ec2, { tags: { fleet: 'listing' } });
    const comment = `listing-${Date.now()}`;
    const sentAt = Date.now();
    const sent = await ssm.send(
      new SendCommandCommand({
        DocumentName: probeDocumentName,
        Targets: [{ Key: 'tag:fleet', Values: ['listing'] }],
        Comment: comment,
      }),
    );
    const commandId = sent.Command?.CommandId as string;
    const listed = async () =>
      ((await ssm.send(new ListCommandsCommand({}))).Commands ?? []).some(
        (c) => c.Comment === comment,
      );
    const early = await listed();
    const byId = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
    expect(byId.Commands?.[0]?.CommandId).toBe(commandId);
    if (Date.now() - sentAt < listedAfterMs) expect(early).toBe(false);
    await pollUntil(listed, (found) => found, 30_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(listedAfterMs);
  });
});
