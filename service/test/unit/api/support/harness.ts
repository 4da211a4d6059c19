import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../../../src/api/app.ts';
import type { ApiConfig, ApiDependencies } from '../../../../src/api/dependencies.ts';
import type { Authenticator, Identity } from '../../../../src/auth/authenticator.ts';
import { AuthenticationError } from '../../../../src/auth/errors.ts';
import type { PrincipalRule } from '../../../../src/config/config.ts';
import type { Deployment } from '../../../../src/domain/deployment.ts';
import type { Mapping } from '../../../../src/domain/mapping.ts';
import type { DeployMessage } from '../../../../src/messages/deploy-message.ts';
import type { JobQueue, QueueMessage } from '../../../../src/ports/job-queue.ts';
import type { Readiness, ReadinessProbe } from '../../../../src/ports/readiness.ts';
import type { SecretStore } from '../../../../src/ports/secret-store.ts';
import {
  FakeCertificateAuthority,
  FakeCommandRunner,
  ManualClock,
} from '../../../support/fakes/aws-fakes.ts';
import {
  InMemoryDeploymentStore,
  InMemoryMappingStore,
  InMemoryServerStore,
} from '../../../support/fakes/stores.ts';

export const account = '123456789012';
export const certArn = `arn:aws:acm:us-east-1:${account}:certificate/11111111-2222-3333-4444-555555555555`;
export const otherCertArn = `arn:aws:acm:us-east-1:${account}:certificate/99999999-2222-3333-4444-555555555555`;

/** Principals of the unit tests, by the token they send (`Authorization: AcmCertExport <name>`). */
export const principals = {
  admin: `arn:aws:iam::${account}:role/admin`,
  ci: `arn:aws:iam::${account}:role/ci-deployer`,
  reader: `arn:aws:iam::${account}:user/auditor`,
  nobody: `arn:aws:iam::${account}:user/nobody`,
} as const;
export type PrincipalName = keyof typeof principals;

export const rules: PrincipalRule[] = [
  {
    principal: `arn:aws:iam::${account}:role/admin`,
    actions: ['read', 'deploy', 'install-options'],
    targets: ['*=*'],
  },
  { principal: `arn:aws:iam::${account}:role/ci-*`, actions: ['deploy'], targets: ['env=dev*'] },
  { principal: `arn:aws:iam::${account}:user/auditor`, actions: ['read'], targets: [] },
];

export function apiConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return {
    api: { enabled: true, host: '127.0.0.1', port: 0, bodyLimit: 16 * 1024, deadlineSeconds: 25 },
    auth: {
      mode: 'sts',
      audience: 'acm-cert-export',
      stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
      maxTokenAgeSeconds: 300,
      principals: rules,
    },
    secrets: { prefix: 'acm-passphrase/', deletionRecoveryDays: 7 },
    allowedCertificateArns: [],
    policy: {
      targetTagKeys: ['env', 'team'],
      allowedReloadCommands: ['/usr/sbin/nginx -s reload', '/usr/bin/systemctl reload nginx'],
      certificateRegions: ['us-east-1'],
    },
    ...overrides,
  };
}

/** Identifies `AcmCertExport <name>` as the principal of that name; anything else is a 401. */
export const fakeAuthenticator: Authenticator = {
  mode: 'sts',
  async authenticate({ authorization }): Promise<Identity> {
    const name = /^AcmCertExport (\w+)$/.exec(authorization ?? '')?.[1];
    const arn = principals[name as PrincipalName] as string | undefined;
    if (arn === undefined) throw new AuthenticationError('MISSING_TOKEN', 'who are you?');
    return { principal: arn, arn, method: 'sts' };
  },
};

/** A queue that records messages, and can be told to fail. */
export class RecordingQueue implements JobQueue {
  readonly messages: DeployMessage[] = [];
  failures = 0;
  /** Called before each send, e.g. to check the record exists already. */
  beforeSend: ((message: DeployMessage) => void | Promise<void>) | undefined;
  /** Reconciliation messages (POST /v1/reconcile), in the order sent. */
  readonly reconciles: Exclude<QueueMessage, DeployMessage>[] = [];
  async send(message: QueueMessage) {
    if (message.type === 'deploy') await this.beforeSend?.(message);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('SQS is down');
    }
    if (message.type !== 'deploy') {
      this.reconciles.push(structuredClone(message));
      return { messageId: `r-${this.reconciles.length}` };
    }
    this.messages.push(structuredClone(message));
    return { messageId: `m-${this.messages.length}` };
  }
}

export class RecordingPassphrases implements Pick<SecretStore, 'scheduleDeletion'> {
  readonly scheduled: { secretId: string; days: number }[] = [];
  /** Secrets known by name only (a mapping records the ARN of those it knows). */
  readonly existing = new Set<string>();
  async scheduleDeletion(secretId: string, days: number) {
    this.scheduled.push({ secretId, days });
    return secretId.startsWith('arn:') || this.existing.has(secretId);
  }
}

export class ScriptedReadiness implements ReadinessProbe {
  calls = 0;
  result: Readiness = { ok: true, details: { queue: { ok: true }, deployments: { ok: true } } };
  delayMs = 0;
  async check() {
    this.calls += 1;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return this.result;
  }
}

/** Captures log lines (JSON strings). */
export function capturingLogger(level = 'trace') {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

export interface TestApi {
  readonly app: FastifyInstance;
  readonly deps: ApiDependencies;
  readonly clock: ManualClock;
  readonly queue: RecordingQueue;
  readonly deployments: InMemoryDeploymentStore;
  readonly mappings: InMemoryMappingStore;
  readonly servers: InMemoryServerStore;
  readonly passphrases: RecordingPassphrases;
  readonly readiness: ScriptedReadiness;
  readonly certificates: FakeCertificateAuthority;
  readonly commands: FakeCommandRunner;
  readonly logs: string[];
  /** `inject` with the token of a named principal (or none). */
  call(
    as: PrincipalName | undefined,
    method: 'GET' | 'POST' | 'DELETE' | 'PUT',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

export function testApi(
  options: { config?: Partial<ApiConfig>; authenticator?: Authenticator } = {},
): TestApi {
  const clock = new ManualClock('2026-11-27T00:00:00.000Z');
  const commands = new FakeCommandRunner(clock);
  const queue = new RecordingQueue();
  const deployments = new InMemoryDeploymentStore();
  const mappings = new InMemoryMappingStore();
  const servers = new InMemoryServerStore();
  const passphrases = new RecordingPassphrases();
  const readiness = new ScriptedReadiness();
  const certificates = new FakeCertificateAuthority();
  const { logger, lines } = capturingLogger();
  const deps: ApiDependencies = {
    config: apiConfig(options.config),
    ports: {
      jobs: queue,
      deployments,
      mappings,
      servers,
      secrets: passphrases,
      readiness,
      certificates,
      commands,
    },
    clock,
    logger,
    authenticator: options.authenticator ?? fakeAuthenticator,
  };
  const app = buildApp(deps);
  return {
    app,
    deps,
    clock,
    queue,
    deployments,
    mappings,
    servers,
    passphrases,
    readiness,
    certificates,
    commands,
    logs: lines,
    call(as, method, url, body, headers = {}) {
      return app.inject({
        method,
        url,
        headers: {
          ...(as === undefined ? {} : { authorization: `AcmCertExport ${as}` }),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: body as object }),
      });
    },
  };
}

export function aMapping(overrides: Partial<Mapping> = {}): Mapping {
  return {
    certificateArn: certArn,
    certName: 'web',
    target: { key: 'env', value: 'dev' },
    install: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function aDeployment(overrides: Partial<Deployment> & { jobId?: string } = {}): Deployment {
  const { jobId = 'job-00000001', ...rest } = overrides;
  return {
    job: {
      jobId,
      certificateArn: certArn,
      certName: 'web',
      target: { key: 'env', value: 'dev' },
      install: {},
      requester: principals.admin,
      trigger: 'api',
    },
    status: 'Running',
    conditions: [],
    attempts: 1,
    failures: 0,
    createdAt: '2026-11-26T00:00:00.000Z',
    updatedAt: '2026-11-26T00:00:01.000Z',
    version: 3,
    ...rest,
  };
}

export const v1Body = {
  certificateArn: certArn,
  certName: 'web',
  target: { key: 'env', value: 'dev' },
};

export const legacyBody = {
  CertificateArn: certArn,
  CertName: 'web',
  TargetTagKey: 'env',
  TargetTagValue: 'dev',
};
