import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import {
  type StartedRunCommandServer,
  startRunCommandServer,
} from '../../run-command/run-command-server.ts';
import { createProbeDocument, pollUntil, probeDocumentName } from '../support/stand-in.ts';

// The stand-in's API blips (the soak's fault): its listener closes and every connection drops,
// connections are refused for a while, then it listens again on the same port; commands, their
// scripts and timers, and the status-change events carry on.

const region = 'us-east-1';
let moto: string;
let stateDir: string;
let server: StartedRunCommandServer;
let ssm: SSMClient;
let sqs: SQSClient;
let eventsQueue: string;

beforeAll(async () => {
  moto = process.env.AWS_ENDPOINT_URL as string;
  stateDir = await mkdtemp(join(tmpdir(), 'run-command-restart-'));
  server = await startRunCommandServer({
    motoEndpoint: moto,
    stateDir,
    timing: { invisibleMs: 100, deliveryMs: 50, eventDelayMs: 100 },
  });
  ssm = new SSMClient({ region, endpoint: server.endpoint, maxAttempts: 1 });
  await createProbeDocument(ssm);
  // Run Command's status-change events, as the stack's rule routes them, to a queue to read.
  sqs = new SQSClient({ region, endpoint: moto });
  ({ QueueUrl: eventsQueue = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: 'restart-events' }),
  ));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: eventsQueue, AttributeNames: ['QueueArn'] }),
  );
  const events = new EventBridgeClient({ region, endpoint: moto });
  await events.send(
    new PutRuleCommand({
      Name: 'restart-events',
      EventPattern: JSON.stringify({ source: ['aws.ssm'] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'restart-events',
      Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn as string }],
    }),
  );
  events.destroy();
});

afterAll(async () => {
  ssm?.destroy();
  sqs?.destroy();
  await server?.stop();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

async function failure(call: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await call;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('the call succeeded');
}

describe('restartApi', () => {
  it('refuses calls while down; a command sent before completes, seen after, with its event', async () => {
    const endpoint = server.endpoint;
    const ec2 = new EC2Client({ region, endpoint: moto });
    // A server that takes 3 s and costs nothing: its invocation runs through the restart.
    const instanceId = await anInstance(ec2, {
      tags: { fleet: 'restart', 'standin:behaviour': 'instant', 'standin:run-ms': '3000' },
    });
    ec2.destroy();
    const sent = await ssm.send(
      new SendCommandCommand({
        DocumentName: probeDocumentName,
        Targets: [{ Key: 'tag:fleet', Values: ['restart'] }],
      }),
    );
    const commandId = sent.Command?.CommandId as string;

    const restartBegan = Date.now();
    const restarted = server.restartApi({ downMs: 1500 });
    const refused = await failure(ssm.send(new ListCommandsCommand({ CommandId: commandId })));
    expect(refused.code).toBe('ECONNREFUSED');
    await restarted;

    expect(server.endpoint).toBe(endpoint);
    expect(server.apiRestarts).toBe(1);
    const seen = await pollUntil(
      () =>
        ssm
          .send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
          .catch((error: Error) => ({ Status: error.name })),
      (out) => out.Status === 'Success',
    );
    // It ended after the restart began (it runs 3 s from the send): it ran through the restart.
    const ended = (seen.at(-1) as { ExecutionEndDateTime?: string }).ExecutionEndDateTime;
    expect(Date.parse(ended ?? '')).toBeGreaterThan(restartBegan);
    const { Commands } = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
    expect(Commands?.map((c) => [c.CommandId, c.Status])).toEqual([[commandId, 'Success']]);

    const events = await pollUntil(
      async () =>
        (
          await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: eventsQueue,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
            }),
          )
        ).Messages ?? [],
      (messages) => messages.length > 0,
    );
    const detail = JSON.parse(events.at(-1)?.[0]?.Body ?? '{}').detail;
    expect([detail['command-id'], detail.status]).toEqual([commandId, 'Success']);
  });

  it('drops a request in flight with no answer', async () => {
    // A request whose body has not all arrived: the stand-in is still reading it.
    const { hostname, port } = new URL(server.endpoint);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolveConnect) => socket.once('connect', () => resolveConnect()));
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolveClose) => socket.once('close', () => resolveClose()));
    socket.on('error', () => {});
    socket.write(
      'POST / HTTP/1.1\r\nHost: stand-in\r\nX-Amz-Target: AmazonSSM.ListCommands\r\n' +
        'Content-Type: application/x-amz-json-1.1\r\nContent-Length: 100\r\n\r\n{',
    );
    const before = server.apiRestarts;
    await server.restartApi({ downMs: 100 });
    await closed;
    expect(Buffer.concat(received).toString()).toBe('');
    expect(server.apiRestarts).toBe(before + 1);
  });

  it('drops open connections: a kept-alive client reconnects once the API is back', async () => {
    // The client above keeps its connection alive; it was destroyed with the listener.
    await ssm.send(new ListCommandsCommand({}));
    await server.restartApi({ downMs: 200 });
    const out = await ssm.send(new ListCommandsCommand({}));
    expect(out.Commands?.length).toBe(1);
    expect(server.apiRestarts).toBe(3);
  });
});
