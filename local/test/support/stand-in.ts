import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import {
  CreateActivationCommand,
  CreateDocumentCommand,
  ListCommandsCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { testAwsConfig, testClients } from '../../../service/test/support/aws.ts';
import { motoEndpoint } from '../../../service/test/support/bed-lane.ts';
import { buildDocument, documentName } from '../../../ssm/build-document.ts';
import { recordedEndpoint } from '../../iam/bed-hooks.ts';
import {
  type HybridNodeRegistration,
  registerManagedInstance,
} from '../../run-command/agent-registration.ts';
import {
  type RunCommandServer,
  type RunCommandServerOptions,
  startRunCommandServer,
} from '../../run-command/run-command-server.ts';
import { type ReloadRecord, readReloadLog, serverRoot } from '../../run-command/server-root.ts';
import type { RunCommandTiming } from '../../run-command/timing.ts';

/** Short timings so that the suite stays fast; AWS-like ordering is kept. */
export const testTiming: Partial<RunCommandTiming> = {
  invisibleMs: 300,
  deliveryMs: 50,
  noInstancesSettleMs: 300,
  slowMs: 1500,
  killGraceMs: 500,
};

export interface StandIn {
  readonly server: RunCommandServer;
  readonly stateDir: string;
  /** The production SSM client, configured by AWS_ENDPOINT_URL_SSM=<stand-in>. */
  readonly ssm: SSMClient;
  /** Where a stand-in server's files are (`ACM_CERT_EXPORT_ROOT` of its scripts). */
  rootOf(instanceId: string): string;
  /** The reload commands the server ran (its recorders' log), oldest first. */
  reloadsOf(instanceId: string): Promise<ReloadRecord[]>;
  stop(): Promise<void>;
}

/** Server options a test may set besides the timing. */
export type StandInOptions = Pick<
  RunCommandServerOptions,
  'clock' | 'reloadCommands' | 'nameServers' | 'containerEngine'
>;

export async function aStandIn(
  timing: Partial<RunCommandTiming> = {},
  options: StandInOptions = {},
): Promise<StandIn> {
  const stateDir = await mkdtemp(join(tmpdir(), 'run-command-test-'));
  const started = await startRunCommandServer({
    motoEndpoint: motoEndpoint(),
    stateDir,
    timing: { ...testTiming, ...timing },
    // Off unless asked (the default): the stand-in's own tests install from secrets they made
    // themselves, untagged; the service's flows (running-system.ts) turn it on.
    ...options,
  });
  // Behind the IAM recorder's front (local/iam): the service's SSM requests are evaluated too,
  // and the recorder asks this stand-in about its hybrid nodes (tags, activation role).
  const front = await recordedEndpoint(started.endpoint, { via: 'run-command', runCommand: true });
  const server: RunCommandServer = {
    endpoint: front.endpoint,
    async stop() {
      await front.stop();
      await started.stop();
    },
  };
  const { ssm } = testClients(testAwsConfig({ AWS_ENDPOINT_URL_SSM: server.endpoint }));
  return {
    server,
    stateDir,
    ssm,
    rootOf: (instanceId) => serverRoot(stateDir, instanceId),
    reloadsOf: (instanceId) => readReloadLog(stateDir, instanceId),
    async stop() {
      try {
        await expectNoKeyMaterialInCommands(ssm);
      } finally {
        await server.stop();
        ssm.destroy();
        await rm(stateDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Run Command keeps every command's parameters in its history for anyone allowed ListCommands:
 * no key may ever be there, encrypted or not, nor a passphrase or a PKCS#12 password. Every
 * stand-in checks every command it was sent when it stops, so the whole suite's commands are
 * checked; a finding fails the test file, naming the command and the parameter (never the value).
 */
export async function expectNoKeyMaterialInCommands(ssm: SSMClient): Promise<void> {
  const findings: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ssm.send(new ListCommandsCommand({ NextToken: nextToken }));
    for (const command of out.Commands ?? []) {
      for (const [name, values] of Object.entries(command.Parameters ?? {})) {
        for (const value of values) {
          const decoded = Buffer.from(value, 'base64').toString('latin1');
          if (
            [value, decoded].some((text) =>
              /PRIVATE KEY|^passphrase: |^pkcs12-password: /m.test(text),
            )
          ) {
            findings.push(`command ${command.CommandId} parameter ${name}`);
          }
        }
      }
    }
    nextToken = out.NextToken;
  } while (nextToken !== undefined);
  if (findings.length > 0) {
    throw new Error(`key material in Run Command's history: ${findings.join('; ')}`);
  }
}

export type { HybridNodeRegistration } from '../../run-command/agent-registration.ts';

/**
 * The SSM Agent's side of a hybrid activation (`amazon-ssm-agent -register -code … -id …
 * -region …` on an on-premises server): registers a server with the activation at the stand-in
 * and returns its managed node id (`mi-` + 17 hexadecimal digits). The node gets the
 * activation's tags and role, and a server root of its own (`rootOf(id)`). `behaviour`,
 * `agentVersion`, `reload`, `computerName` and `ipAddress` say what the server is; the node's
 * `standin:*` tags, if any, override them. Refusals throw an error named by AWS's code:
 * InvalidActivation (unknown or deleted activation, wrong code, registrations used up),
 * ActivationExpired.
 */
export function registerHybridNode(
  standIn: StandIn,
  registration: HybridNodeRegistration,
): Promise<string> {
  return registerManagedInstance(standIn.server.endpoint, registration);
}

/**
 * An IAM role (in the emulator) a hybrid activation can name: trusted by ssm.amazonaws.com, as
 * CreateActivation requires, with `tags` (a hybrid node's principal tags: the servers' ABAC
 * policy compares its `env` tag with the secret's). Returns its name.
 */
export async function aHybridServiceRole(tags: Record<string, string> = {}): Promise<string> {
  const roleName = `HybridNodes-${randomUUID().slice(0, 8)}`;
  const { iam } = testClients();
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'ssm.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  } finally {
    iam.destroy();
  }
  return roleName;
}

/**
 * A registered hybrid node in one call: a role (tagged `roleTags`), an activation for it carrying
 * `tags` (applied to the node), and the agent's registration. Returns the node's id.
 */
export async function aHybridNode(
  standIn: StandIn,
  options: {
    tags?: Record<string, string>;
    roleTags?: Record<string, string>;
  } & Omit<HybridNodeRegistration, 'activationId' | 'activationCode'> = {},
): Promise<string> {
  const { tags = {}, roleTags = {}, ...server } = options;
  const activation = await standIn.ssm.send(
    new CreateActivationCommand({
      IamRole: await aHybridServiceRole(roleTags),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return registerHybridNode(standIn, {
    activationId: activation.ActivationId as string,
    activationCode: activation.ActivationCode as string,
    ...server,
  });
}

/**
 * A clock that runs with real time and that a test moves forward: the stand-in's agents
 * register when it says so, without the test waiting a minute.
 */
export function aMovableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

/** Creates the install document through the stand-in (which forwards it to moto). */
export async function createInstallDocument(ssm: SSMClient): Promise<void> {
  await ssm.send(
    new CreateDocumentCommand({
      Name: documentName,
      Content: buildDocument(),
      DocumentType: 'Command',
      DocumentFormat: 'YAML',
    }),
  );
}

/**
 * A small Command document for tests about targeting and agents rather than installing: its one
 * step prints the `SSM_*` variables it got (the ENV_VAR parameter `Message`), one per line.
 */
export const probeDocumentName = 'StandIn-Probe';

export async function createProbeDocument(ssm: SSMClient): Promise<void> {
  const content = {
    schemaVersion: '2.2',
    description: 'Prints the SSM_* variables the step sees.',
    parameters: {
      Message: {
        type: 'String',
        default: 'hello',
        interpolationType: 'ENV_VAR',
        allowedPattern: '^[a-z]{1,20}$',
      },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'probe',
        inputs: { runCommand: ['env | grep "^SSM_" | sort', 'echo "probe done"'] },
      },
    ],
  };
  await ssm.send(
    new CreateDocumentCommand({
      Name: probeDocumentName,
      Content: JSON.stringify(content),
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
    }),
  );
}

/** Polls `read` until `done` holds; returns every value seen, the last one satisfying it. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T[]> {
  const seen: T[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    seen.push(value);
    if (done(value)) return seen;
    if (Date.now() > deadline) {
      throw new Error(`not done after ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    }
    await sleep(50);
  }
}
