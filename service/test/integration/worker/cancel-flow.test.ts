import { setTimeout as sleep } from 'node:timers/promises';
import { ListCommandInvocationsCommand, ListCommandsCommand } from '@aws-sdk/client-ssm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.ts';
import { type AwsClients, createAwsClients } from '../../../src/aws/clients.ts';
import { buildApiDependencies, buildPorts } from '../../../src/composition.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { instances } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { enqueue, finished, installedFile } from './helpers.ts';

// A running job cancelled through the API (its own clients, so the IAM bed evaluates the API
// role's write): the worker cancels its command in the stand-in, the servers still waiting or
// running never install, and the job ends Cancelled with each server's result.
let system: RunningSystem;
let aws: AwsClients;
let app: FastifyInstance;
let arn: string;
let servers: string[];

beforeAll(async () => {
  // Slow servers wait 30 s before running the script: the command is surely still running.
  system = await aRunningSystem({ timing: { slowMs: 30_000 } });
  aws = createAwsClients(system.config.aws, 'acm-cert-export-api');
  app = buildApp(
    buildApiDependencies(system.config, buildPorts(system.config, aws), createLogger('silent')),
  );
  arn = await anExportableCertificate(system.clients.acm);
  servers = await instances(system.clients.ec2, 3, {
    tags: { env: 'to-cancel', 'standin:behaviour': 'slow' },
  });
});

afterAll(async () => {
  await app?.close();
  aws?.destroy();
  await system?.stop();
});

/** Waits until Run Command runs the job's command on some server; its command id. */
async function runningCommand(jobId: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const d = await system.ports.deployments.get(jobId);
    if (d?.commandId !== undefined) {
      const { CommandInvocations } = await system.clients.ssm.send(
        new ListCommandInvocationsCommand({ CommandId: d.commandId }),
      );
      if ((CommandInvocations ?? []).some((i) => i.Status === 'InProgress')) return d.commandId;
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} never ran: ${JSON.stringify(d)}`);
    await sleep(100);
  }
}

const cancel = (jobId: string) =>
  app.inject({ method: 'POST', url: `/v1/deployments/${jobId}/cancel` });

describe('cancelling a running job', () => {
  it('cancels its command on the servers and ends Cancelled', async () => {
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-cancel-0001',
      certificateArn: arn,
      certName: 'web',
      target: { key: 'env', value: 'to-cancel' },
    });
    const commandId = await runningCommand('it-cancel-0001');
    const accepted = await cancel('it-cancel-0001');
    expect(accepted.statusCode, accepted.body).toBe(202);
    expect(accepted.json()).toMatchObject({
      status: 'Running',
      cancelRequest: { by: 'anonymous' },
    });

    const d = await finished(system, 'it-cancel-0001', 30_000);
    expect(d.status, d.reason).toBe('Cancelled');
    expect(d.reason).toMatch(
      /^cancelled by anonymous at .*; installed on 0 of 3 servers before the command stopped; cancelled on 3: /,
    );
    expect(d.commandCancelledAt).toBeDefined();
    expect(d.servers.map((s) => s.status)).toEqual(['Cancelled', 'Cancelled', 'Cancelled']);
    const { Commands } = await system.clients.ssm.send(
      new ListCommandsCommand({ CommandId: commandId }),
    );
    expect(Commands?.[0]?.Status).toBe('Cancelled');
    for (const id of servers) {
      await expect(installedFile(system, id, 'etc/ssl/certs/web-fullchain.pem')).rejects.toThrow(
        /ENOENT/,
      );
    }
    const mapping = await system.ports.mappings.get({
      target: { key: 'env', value: 'to-cancel' },
      certificateArn: arn,
      certName: 'web',
    });
    expect(mapping).toMatchObject({ lastOutcome: 'Cancelled', lastJobId: 'it-cancel-0001' });
    expect(mapping?.lock).toBeUndefined();

    const again = await cancel('it-cancel-0001');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('DEPLOYMENT_FINISHED');
  }, 90_000);
});
