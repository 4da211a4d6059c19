/**
 * Stand-in servers that are containers (tag `standin:container`): the step's script runs inside
 * the container through the engine's API, as root, with real paths and no ACM_CERT_EXPORT_ROOT;
 * CancelCommand and the execution timeout stop it there, its children included, as on a server
 * of this machine; a server whose container does not run fails, saying so.
 *
 * Needs a container engine (podman, as root); skipped with one line where there is none.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelCommandCommand,
  type Command,
  CreateDocumentCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients } from '../../../service/test/support/aws.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import {
  type EngineService,
  startEngineService,
  whyNoContainerEngine,
} from '../../run-command/engine-service.ts';
import {
  bookwormImage,
  containerName,
  processesIn,
  removeContainer,
  startContainer,
} from '../support/server-containers.ts';
import { aStandIn, pollUntil, type StandIn } from '../support/stand-in.ts';

const skipReason = await whyNoContainerEngine();
if (skipReason !== undefined) console.log(`stand-in container test skipped: ${skipReason}`);

const { ec2 } = testClients();
const container = containerName('standin-server');
const documentName = 'StandIn-Container-Probe';
const timeoutDocumentName = 'StandIn-Container-Timeout';
/** What a sleeping probe runs, to find in the container's processes. */
const sleeper = 'sleep 271';

let engine: EngineService | undefined;
let scratch: string | undefined;
let standIn: StandIn;

async function createDocument(name: string, timeoutSeconds?: string) {
  const content = {
    schemaVersion: '2.2',
    description: 'Says where and as whom it runs; sleeps (a child process) when asked.',
    parameters: {
      Message: { type: 'String', default: 'hello', interpolationType: 'ENV_VAR' },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'probe',
        inputs: {
          ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
          runCommand: [
            `echo "uid=$(id -u) cwd=$PWD root=\${ACM_CERT_EXPORT_ROOT:-none} message=$SSM_Message"`,
            `if [ "$SSM_Message" = sleep ]; then ${sleeper} & wait; fi`,
          ],
        },
      },
    ],
  };
  await standIn.ssm.send(
    new CreateDocumentCommand({
      Name: name,
      Content: JSON.stringify(content),
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
    }),
  );
}

async function send(instanceId: string, document: string, message: string): Promise<string> {
  const out = await standIn.ssm.send(
    new SendCommandCommand({
      DocumentName: document,
      InstanceIds: [instanceId],
      Parameters: { Message: [message] },
    }),
  );
  return out.Command?.CommandId as string;
}

async function settled(commandId: string): Promise<Command> {
  const seen = await pollUntil(
    async () =>
      (await standIn.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0],
    (c) => ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(c?.Status ?? ''),
    60_000,
  );
  return seen.at(-1) as Command;
}

/** The invocation once visible (InvocationDoesNotExist for a moment after SendCommand, as on AWS). */
async function invocation(commandId: string, instanceId: string) {
  const seen = await pollUntil(
    () =>
      standIn.ssm
        .send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
        .catch((error: { name?: string }) => {
          if (error.name === 'InvocationDoesNotExist') return undefined;
          throw error;
        }),
    (result) => result !== undefined,
  );
  return seen.at(-1) as NonNullable<(typeof seen)[number]>;
}

const sleeping = async () =>
  (await processesIn(engine?.cli ?? 'podman', container)).some((p) => p.startsWith(sleeper));

describe.skipIf(skipReason !== undefined)('a stand-in server that is a container', () => {
  beforeAll(async () => {
    const image = await bookwormImage();
    scratch = await mkdtemp(join(tmpdir(), 'standin-containers-'));
    engine = await startEngineService(scratch);
    await startContainer(engine.cli, container, image, ['sleep', 'infinity'], 'standin-server');
    standIn = await aStandIn({}, { containerEngine: engine.dockerHost });
    await createDocument(documentName);
    await createDocument(timeoutDocumentName, '3');
  }, 900_000);

  afterAll(async () => {
    await standIn?.stop();
    await removeContainer(engine?.cli ?? 'podman', container);
    await engine?.stop();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it('runs the script inside the container as root, in the agent orchestration directory, with no fake root', async () => {
    const server = await anInstance(ec2, { tags: { 'standin:container': container } });
    const commandId = await send(server, documentName, 'inside');
    expect(await settled(commandId)).toMatchObject({ Status: 'Success' });
    const result = await invocation(commandId, server);
    expect(result.StandardOutputContent).toBe(
      `uid=0 cwd=/var/lib/amazon/ssm/${server}/document/orchestration/${commandId}/probe root=none message=inside\n`,
    );
  });

  it('stops the script and its children in the container on CancelCommand', async () => {
    const server = await anInstance(ec2, { tags: { 'standin:container': container } });
    const commandId = await send(server, documentName, 'sleep');
    await pollUntil(sleeping, (found) => found, 30_000);
    await standIn.ssm.send(new CancelCommandCommand({ CommandId: commandId }));
    expect(await settled(commandId)).toMatchObject({
      Status: 'Cancelled',
      StatusDetails: 'Cancelled',
    });
    expect(await sleeping()).toBe(false);
  });

  it("stops it at the step's execution timeout: TimedOut, nothing left running", async () => {
    const server = await anInstance(ec2, { tags: { 'standin:container': container } });
    const commandId = await send(server, timeoutDocumentName, 'sleep');
    await pollUntil(sleeping, (found) => found, 30_000);
    expect(await settled(commandId)).toMatchObject({ Status: 'TimedOut' });
    const result = await invocation(commandId, server);
    expect(result).toMatchObject({ Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut' });
    expect(await sleeping()).toBe(false);
  });

  it('fails a server whose container does not run, saying so', async () => {
    const server = await anInstance(ec2, {
      tags: { 'standin:container': containerName('never-started') },
    });
    const commandId = await send(server, documentName, 'nowhere');
    expect(await settled(commandId)).toMatchObject({ Status: 'Failed' });
    const result = await invocation(commandId, server);
    expect(result.StandardErrorContent).toMatch(
      /could not run the script in container acm-never-started-/,
    );
  });
});
