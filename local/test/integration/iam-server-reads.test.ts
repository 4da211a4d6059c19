import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  CreateDocumentCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAwsConfig, testClients } from '../../../service/test/support/aws.ts';
import { iamRecorder, motoEndpoint } from '../../../service/test/support/bed-lane.ts';
import { anInstance } from '../../../service/test/support/builders/instances.ts';
import { checkFile } from '../../iam/bed-hooks.ts';
import { repoRoot } from '../../paths.ts';
import {
  type RunCommandServer,
  startRunCommandServer,
} from '../../run-command/run-command-server.ts';
import { aHybridNode, aStandIn } from '../support/stand-in.ts';

// What a stand-in server's own AWS CLI asks for is evaluated against the servers' passphrase
// policy (ServerAccess, ABAC), with the instance's tags as its role's tags — when the stand-in
// names the server in the User-Agent (AWS_SDK_UA_APP_ID=acm-cert-export-server.<instance-id>).
// One server per stand-in here, so its script environment can carry that name.

const file = relative(repoRoot, import.meta.filename);
const document = 'IamProbe-ServerReads';
let stateDir: string;
let server: RunCommandServer;
let ssm: SSMClient;
let instanceId: string;

beforeAll(async () => {
  const clients = testClients();
  instanceId = await anInstance(clients.ec2, { tags: { env: 'dev' } });
  for (const env of ['dev', 'prod']) {
    await clients.secretsManager.send(
      new CreateSecretCommand({
        Name: `acm-passphrase/iam-${env}`,
        SecretString: 'not a real passphrase',
        Tags: [{ Key: 'env', Value: env }],
      }),
    );
  }
  stateDir = await mkdtemp(join(tmpdir(), 'iam-server-reads-'));
  server = await startRunCommandServer({
    motoEndpoint: motoEndpoint(),
    stateDir,
    scriptEnv: { AWS_SDK_UA_APP_ID: `acm-cert-export-server.${instanceId}` },
  });
  ({ ssm } = testClients(testAwsConfig({ AWS_ENDPOINT_URL_SSM: server.endpoint })));
  const read = (env: string) =>
    `aws secretsmanager get-secret-value --secret-id acm-passphrase/iam-${env} --query ARN --output text`;
  await ssm.send(
    new CreateDocumentCommand({
      Name: document,
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Content: JSON.stringify({
        schemaVersion: '2.2',
        description: 'Reads two passphrase secrets as the server.',
        mainSteps: [
          {
            action: 'aws:runShellScript',
            name: 'read',
            inputs: { runCommand: [read('dev'), read('prod')] },
          },
        ],
      }),
    }),
  );
});

afterAll(async () => {
  ssm?.destroy();
  await server?.stop();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

async function finished(commandId: string, client: SSMClient = ssm): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const out = await client.send(new ListCommandInvocationsCommand({ CommandId: commandId }));
    const status = out.CommandInvocations?.[0]?.Status;
    if (status !== undefined && !['Pending', 'InProgress', 'Delayed'].includes(status))
      return status;
    await sleep(100);
  }
  throw new Error(`command ${commandId} did not finish`);
}

describe('a stand-in server reading passphrases', () => {
  it('is allowed its own tag’s secret and refused another tag’s, by the servers’ policy', async () => {
    const sent = await ssm.send(
      new SendCommandCommand({ DocumentName: document, InstanceIds: [instanceId] }),
    );
    // The emulator answers both reads: only the evaluation says which one AWS would refuse.
    expect(await finished(sent.Command?.CommandId ?? '')).toBe('Success');
    // Checked here, so that the expected refusal does not fail the file afterwards.
    const { report, evaluated } = await checkFile(iamRecorder(), file);
    expect(evaluated).toBe(2);
    expect(report).toContain(`server ${instanceId} (role tags {"env":"dev"})`);
    expect(report).toMatch(
      /secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:acm-passphrase\/iam-prod-\w+ → ImplicitlyDenied/,
    );
    expect(report).not.toContain('acm-passphrase/iam-dev');
  });
});

// A hybrid (`mi-…`) node runs with its activation's IamRole: its reads are evaluated as that
// role, with the role's IAM tags, which the recorder looks up through the stand-in (the node's
// activation) and the emulator's IAM. The stand-in names its servers (nameServers).
describe('a hybrid node reading passphrases', () => {
  it('is its activation’s role: allowed the role tag’s secret, refused another, whatever its own tags', async () => {
    const standIn = await aStandIn({}, { nameServers: true });
    try {
      // The node's own tags say prod: only the role's tags count for IAM.
      const node = await aHybridNode(standIn, { roleTags: { env: 'dev' }, tags: { env: 'prod' } });
      const sent = await standIn.ssm.send(
        new SendCommandCommand({ DocumentName: document, InstanceIds: [node] }),
      );
      expect(await finished(sent.Command?.CommandId ?? '', standIn.ssm)).toBe('Success');
      const { report, evaluated } = await checkFile(iamRecorder(), file);
      expect(evaluated).toBe(2);
      expect(report).toMatch(
        new RegExp(
          `server ${node} \\(as arn:aws:iam::123456789012:role/HybridNodes-\\w+, role tags \\{"env":"dev"\\}\\)`,
        ),
      );
      expect(report).toMatch(
        /secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:acm-passphrase\/iam-prod-\w+ → ImplicitlyDenied/,
      );
      expect(report).not.toContain('acm-passphrase/iam-dev');
    } finally {
      await standIn.stop();
    }
  });
});
