/**
 * The service's environment for local runs (docker compose and the no-Docker run), from the
 * same definition as the CDK stack's (infra/lib/service-environment.ts) plus the endpoints of
 * the emulator. docker-compose.yml spells the result out; a unit test keeps them equal.
 */
import {
  deploymentsTable,
  documentName,
  jobQueue,
  mappingTable,
  passphraseSecretPrefix,
  serversTable,
} from '../infra/lib/resource-definitions.ts';
import { serviceEnvironment } from '../infra/lib/service-environment.ts';
import { defaultReloadCommands } from './run-command/server-root.ts';

/** moto's default account: every ARN and queue URL in the emulator uses it. */
export const emulatorAccount = '123456789012';
export const emulatorRegion = 'us-east-1';

/**
 * The stack's alarm topic, where the worker also publishes its notifications. The stack leaves
 * its name to CloudFormation (`<stack>-AlarmsTopic3A2DFEBA-<random>`: naming it now would replace
 * the topic and lose the subscriptions made outside the stack); the bed names it by its logical
 * id, the name local/iam/intrinsics.ts gives a topic CloudFormation names, so the task role's
 * grant is evaluated against this topic (local/test/unit/iam-notify-topic.test.ts checks it).
 */
export const emulatorAlarmTopicName = 'AlarmsTopic3A2DFEBA';
export const emulatorAlarmTopicArn = `arn:aws:sns:${emulatorRegion}:${emulatorAccount}:${emulatorAlarmTopicName}`;

/** The IAM user the seeding step creates; its signed requests are what the demo CLI sends. */
export const demoUserName = 'demo';
export const demoPrincipal = `arn:aws:iam::${emulatorAccount}:user/${demoUserName}`;
/** The demo servers' tag, and the only target the demo user may deploy to. */
export const demoTarget = { key: 'env', value: 'dev' } as const;

export const demoPrincipals = [
  {
    principal: demoPrincipal,
    actions: ['read', 'deploy', 'install-options'],
    targets: [`${demoTarget.key}=${demoTarget.value}`],
  },
];

export interface LocalEndpoints {
  /** moto, e.g. http://moto:5000 in compose, http://127.0.0.1:5000 without Docker. */
  readonly moto: string;
  /** The Run Command stand-in (SSM API). */
  readonly runCommand: string;
  readonly port?: number;
}

/** moto names a queue URL after the endpoint it was reached through, the account and the name. */
export function emulatorQueueUrl(moto: string, queueName: string): string {
  return `${moto.replace(/\/+$/, '')}/${emulatorAccount}/${queueName}`;
}

/** Every variable the local service gets, in a stable order. */
export function localServiceEnvironment(endpoints: LocalEndpoints): Record<string, string> {
  return {
    ...serviceEnvironment(
      {
        region: emulatorRegion,
        queueUrl: emulatorQueueUrl(endpoints.moto, jobQueue.defaultName),
        deadLetterQueueUrl: emulatorQueueUrl(endpoints.moto, jobQueue.deadLetterName),
        mappingTable: mappingTable.defaultName,
        deploymentsTable: deploymentsTable.defaultName,
        serversTable: serversTable.defaultName,
        documentName,
        secretPrefix: passphraseSecretPrefix,
        allowedCertificateArns: [],
        targetTagKeys: [demoTarget.key],
        // The stand-in servers allow (and only record) these: a demo can ask for a reload.
        allowedReloadCommands: defaultReloadCommands,
        notifyTopicArn: emulatorAlarmTopicArn,
      },
      {
        apiEnabled: true,
        workerEnabled: true,
        authMode: 'sts',
        principalsJson: JSON.stringify(demoPrincipals),
        authAudience: 'acm-cert-export',
        port: endpoints.port ?? 8080,
      },
    ),
    // Every AWS call goes to moto except SSM, which the stand-in answers (and forwards the rest).
    AWS_ENDPOINT_URL: endpoints.moto,
    AWS_ENDPOINT_URL_SSM: endpoints.runCommand,
    // moto accepts any credentials; these are the service's own, not the demo caller's.
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    LOG_LEVEL: 'info',
  };
}

/** The environment the seeding step and the stand-in use to reach moto. */
export function emulatorClientEnvironment(moto: string): Record<string, string> {
  return {
    AWS_REGION: emulatorRegion,
    AWS_ENDPOINT_URL: moto,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
}

/**
 * For processes that talk to the emulator only (the local run, the benchmarks): emulator
 * credentials and region, and never a real profile, session or endpoint from the shell.
 */
export function useEmulatorCredentials(env: NodeJS.ProcessEnv = process.env): void {
  Object.assign(env, {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: emulatorRegion,
  });
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL']) delete env[name];
}
