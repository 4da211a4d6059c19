import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.ts';
import { createAuthToken } from '../../../src/auth/token-client.ts';
import { type AwsClients, createAwsClients } from '../../../src/aws/clients.ts';
import { buildApiDependencies, buildPorts } from '../../../src/composition.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { testClients } from '../../support/aws.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anIamUser, type IamUser } from '../../support/builders/iam-users.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished, installedFile, serialOf } from '../worker/helpers.ts';

// A dry run through the API's own clients (app id acm-cert-export-api, so the IAM bed evaluates
// its ACM and Systems Manager reads against the API's role) on moto and the Run Command
// stand-in, after one real deployment: it reports what a deployment would do and changes nothing.
let system: RunningSystem;
let aws: AwsClients;
let app: FastifyInstance;
let alice: IamUser;
let token: string;
let arn: string;
let servers: string[];

beforeAll(async () => {
  alice = await anIamUser(testClients().iam, { userName: 'alice-dry-run' });
  system = await aRunningSystem({
    env: {
      AUTH_MODE: 'sts',
      AUTH_PRINCIPALS: JSON.stringify([
        { principal: alice.arn, actions: ['read', 'deploy'], targets: ['env=dev'] },
      ]),
    },
  });
  aws = createAwsClients(system.config.aws, 'acm-cert-export-api');
  app = buildApp(
    buildApiDependencies(system.config, buildPorts(system.config, aws), createLogger('silent')),
  );
  token = await createAuthToken({
    credentials: alice.credentials,
    stsEndpoint: system.config.auth.stsEndpoint,
    region: 'us-east-1',
    audience: system.config.auth.audience,
  });
  arn = await anExportableCertificate(system.clients.acm);
  servers = [
    await anInstance(system.clients.ec2, { tags: { env: 'dev' } }),
    await anInstance(system.clients.ec2, { tags: { env: 'dev' } }),
  ];
  await anInstance(system.clients.ec2, { tags: { env: 'prod' } });
});

afterAll(async () => {
  await app?.close();
  aws?.destroy();
  await system?.stop();
});

const body = () => ({ certificateArn: arn, certName: 'web', target: { key: 'env', value: 'dev' } });
const dryRun = () =>
  app.inject({
    method: 'POST',
    url: '/v1/deployments/dry-run',
    headers: { authorization: token },
    payload: body(),
  });

describe('a dry run on the emulator', () => {
  it('lists the tagged servers, their agents and the serial each holds, and writes nothing', async () => {
    const before = await dryRun();
    expect(before.statusCode).toBe(200);
    expect(before.json()).toMatchObject({
      wouldDeploy: true,
      certificate: { arn, status: 'ISSUED', exportable: true },
      problems: [],
    });
    expect(before.json().servers.map((s: { instanceId: string }) => s.instanceId)).toEqual(
      [...servers].sort(),
    );
    for (const s of before.json().servers) {
      expect(s).toMatchObject({ pingStatus: 'Online', agentSupported: true, wouldInstall: true });
      expect(s.installedSerial).toBeUndefined();
    }
    expect((await system.ports.deployments.listByCertificate(arn, 10)).items).toEqual([]);
    expect(
      await system.ports.mappings.get({
        target: body().target,
        certificateArn: arn,
        certName: 'web',
      }),
    ).toBeUndefined();

    await enqueue(system, { type: 'deploy', version: 1, jobId: 'it-dry-0001', ...body() });
    expect((await finished(system, 'it-dry-0001')).status).toBe('Succeeded');
    const installed = serialOf(
      (await installedFile(system, servers[0] as string, 'etc/ssl/certs/web-fullchain.pem')).text,
    );

    const after = await dryRun();
    expect(after.statusCode).toBe(200);
    for (const s of after.json().servers) {
      expect(s.installedSerial?.replaceAll(':', '').toLowerCase()).toBe(installed);
    }
    expect((await system.ports.deployments.listByCertificate(arn, 10)).items).toHaveLength(1);
  });
});
