/**
 * The soak's bed, on loopback: moto and the Run Command stand-in, each behind a proxy that
 * counts the service's calls and answers some with faults (local/aws-proxy), the stack's
 * resources (local/provision.ts), an IAM user the traffic signs its API calls as, a few
 * exportable certificates and a fleet of stand-in servers, some of them failing, hanging or
 * unreachable. The soak's own set-up and observation go straight to moto and the stand-in.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { type AwsFaults, type AwsProxy, startAwsProxy } from '../../local/aws-proxy/aws-proxy.ts';
import { startMoto } from '../../local/moto/moto-server.ts';
import { provision } from '../../local/provision.ts';
import { startRunCommandServer } from '../../local/run-command/run-command-server.ts';
import {
  emulatorAccount,
  localServiceEnvironment,
  useEmulatorCredentials,
} from '../../local/stack-env.ts';
import { directClients, exportableCertificate, provisionedEnvironment } from '../bench-system.ts';
import type { FaultOptions } from './options.ts';
import type { Random } from './random.ts';

/** How a stand-in server behaves (`standin:behaviour`); `real` runs the install script. */
export type ServerBehaviour = 'instant' | 'real' | 'fail' | 'hang' | 'unreachable';

export interface SoakServer {
  readonly instanceId: string;
  readonly target: string;
  readonly behaviour: ServerBehaviour;
  /** False once terminated. */
  running: boolean;
}

/**
 * The servers of each target at the start. Most answer after a while (`instant`: 0.5–4 s, no
 * work for this machine); `soak-real` runs the real install script; `soak-fail` and `soak-hang`
 * each hold one server that fails or hangs among good ones, so that SSM's MaxErrors (10 %: one
 * on these targets) lets the good ones install. The unreachable server is alone on its target:
 * at MaxConcurrency 10 % (one server at a time on a small target) a server never reached holds
 * the only slot until the delivery timeout, and every server after it times out undelivered too
 * (as Run Command's rate control does; docs/reliability.md).
 */
export const fleet: Readonly<Record<string, readonly ServerBehaviour[]>> = {
  'soak-a': ['instant', 'instant', 'instant'],
  'soak-b': ['instant', 'instant', 'instant'],
  'soak-c': ['instant', 'instant'],
  'soak-d': ['instant', 'instant'],
  'soak-e': ['instant'],
  'soak-real': ['real', 'real'],
  'soak-fail': ['instant', 'instant', 'instant', 'fail'],
  'soak-hang': ['instant', 'instant', 'instant', 'hang'],
  'soak-unreachable': ['unreachable'],
};

/** Targets where new servers start during the run (instant ones). */
export const growingTargets = ['soak-a', 'soak-b', 'soak-c', 'soak-d', 'soak-e'] as const;

/**
 * The most servers a growing target holds: a start beyond it terminates the target's oldest
 * server first, as an Auto Scaling group replaces instances. Unbounded, a 30-minute run's
 * targets grew to 20 servers, each deployment took their turns at MaxConcurrency 10 %, and
 * deployments of a mapping arrived faster than its lock let them through (seen).
 */
export const serversPerGrowingTarget = 6;

export const soakUser = 'soak';
export const soakPrincipal = `arn:aws:iam::${emulatorAccount}:user/${soakUser}`;

/**
 * How long an `instant` server takes to answer: a server that takes time without costing this
 * machine work (the stand-in's `standin:run-ms`).
 */
const instantRunMs = { min: 500, max: 4000 };

/**
 * The stand-in's delivery and execution timeouts, shortened from SSM's (the command's
 * TimeoutSeconds, 600 s, and the document's 3,600 s) so that unreachable and hanging servers end
 * within the drain. Delivery stays long enough for every server of a grown target, one after
 * another at MaxConcurrency 10 %, to start before it: a shorter one fails good servers (seen).
 */
export const standInTimeouts = { deliveryTimeoutMs: 60_000, executionTimeoutMs: 15_000 };

/**
 * How often each target is chosen, relative to the others (1 when not listed): a job on a target
 * with a hanging or unreachable server lasts until its timeout and holds the mapping's lock all
 * that while, and the real install script costs this machine a second of CPU per server.
 */
export const targetWeights: Readonly<Record<string, number>> = {
  'soak-real': 0.6,
  'soak-fail': 0.4,
  'soak-hang': 0.4,
  'soak-unreachable': 0.15,
};

export async function startSoakBed(options: {
  stateDir: string;
  faults: FaultOptions;
  random: Random;
  log: (line: string) => void;
}) {
  useEmulatorCredentials();
  mkdirSync(options.stateDir, { recursive: true });
  const moto = await startMoto();
  const { faults } = options;
  const aws: AwsProxy = await startAwsProxy({
    target: moto.endpoint,
    rates: [{ operation: 'CertificateManager.ExportCertificate', perSecond: 5 }],
    faults: proxyFaults(faults),
  });
  const standInStateDir = join(options.stateDir, 'run-command');
  const standIn = await startRunCommandServer({
    motoEndpoint: moto.endpoint,
    stateDir: standInStateDir,
    timing: standInTimeouts,
    log: (line) => options.log(`stand-in: ${line}`),
  });
  const ssmProxy: AwsProxy = await startAwsProxy({
    target: standIn.endpoint,
    faults: proxyFaults(faults),
  });
  const clients = directClients(moto.endpoint, standIn.endpoint);
  const { dynamodbRaw } = clients;
  const provisioned = await provision({
    dynamodb: dynamodbRaw,
    sqs: clients.sqs,
    eventbridge: clients.eventbridge,
    ssm: clients.ssm,
    sns: clients.sns,
  });
  await clients.iam.send(new CreateUserCommand({ UserName: soakUser }));
  const key = await clients.iam.send(new CreateAccessKeyCommand({ UserName: soakUser }));
  const credentials = {
    accessKeyId: key.AccessKey?.AccessKeyId ?? '',
    secretAccessKey: key.AccessKey?.SecretAccessKey ?? '',
  };
  const certificates: string[] = [];
  for (const name of ['shop', 'api', 'mail']) {
    certificates.push(await exportableCertificate(clients.acm, `${name}.soak.example.com`));
  }
  const servers: SoakServer[] = [];
  const bed = {
    moto,
    aws,
    ssmProxy,
    standIn,
    standInStateDir,
    clients,
    provisioned,
    certificates,
    servers,
    credentials,
    /** The service's environment: the stack's, every AWS call through the fault proxies. */
    serviceEnv: {
      ...localServiceEnvironment({ moto: aws.endpoint, runCommand: ssmProxy.endpoint }),
      ...provisionedEnvironment(provisioned),
      AUTH_STS_ENDPOINT: moto.endpoint,
      AUTH_PRINCIPALS: JSON.stringify([
        { principal: soakPrincipal, actions: ['read', 'deploy'], targets: ['env=soak-*'] },
      ]),
      METRICS_ENABLED: 'false',
    } as Record<string, string>,
    /** Starts one more server tagged env=`target`, as an instance start would. */
    async addServer(target: string, behaviour: ServerBehaviour): Promise<SoakServer> {
      const tags = [{ Key: 'env', Value: target }];
      if (behaviour !== 'real') tags.push({ Key: 'standin:behaviour', Value: behaviour });
      if (behaviour === 'instant') {
        tags.push({
          Key: 'standin:run-ms',
          Value: String(options.random.int(instantRunMs.min, instantRunMs.max)),
        });
      }
      const out = await clients.ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-12c6146b',
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
        }),
      );
      const instanceId = out.Instances?.[0]?.InstanceId;
      if (instanceId === undefined) throw new Error('RunInstances returned no instance');
      const server: SoakServer = { instanceId, target, behaviour, running: true };
      servers.push(server);
      return server;
    },
    /** Terminates a server (it leaves Run Command's targets and the checks' servers). */
    async terminate(server: SoakServer): Promise<void> {
      await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [server.instanceId] }));
      server.running = false;
    },
    async stop() {
      for (const c of Object.values(clients)) c.destroy();
      await ssmProxy.stop();
      await standIn.stop();
      await aws.stop();
      await moto.stop();
    },
  };
  for (const [target, behaviours] of Object.entries(fleet)) {
    for (const behaviour of behaviours) await bed.addServer(target, behaviour);
  }
  return bed;
}

export type SoakBed = Awaited<ReturnType<typeof startSoakBed>>;

/** The proxies' faults for the options (latency from a tenth of the most to the most). */
export function proxyFaults(faults: FaultOptions): AwsFaults {
  return {
    throttle: faults.throttle,
    serverError: faults.serverErrors,
    drop: faults.drops,
    latency: {
      share: faults.latency,
      minMs: Math.round(faults.latencyMaxMs / 10),
      maxMs: faults.latencyMaxMs,
    },
  };
}

/** Every fault of both proxies off (the drain). */
export function faultsOff(bed: SoakBed): void {
  for (const proxy of [bed.aws, bed.ssmProxy]) proxy.setFaults({});
}
