import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Config } from '../config/config.ts';
import type { CertificateAuthority } from '../ports/certificate-authority.ts';
import type { Clock } from '../ports/clock.ts';
import type { CommandRunner } from '../ports/command-runner.ts';
import type { DeploymentStore } from '../ports/deployment-store.ts';
import type { JobQueue } from '../ports/job-queue.ts';
import type { MappingStore } from '../ports/mapping-store.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { ReadinessProbe } from '../ports/readiness.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import type { ServerStore } from '../ports/server-store.ts';

/** The part of the configuration the API reads. A full `Config` fits. */
export type ApiConfig = Pick<
  Config,
  'api' | 'auth' | 'secrets' | 'allowedCertificateArns' | 'policy'
>;

/** The ports the API uses, narrowed to the methods it calls. Full adapters fit. */
export interface ApiPorts {
  readonly jobs: JobQueue;
  readonly deployments: Pick<DeploymentStore, 'create' | 'get' | 'save' | 'listByCertificate'>;
  readonly mappings: Pick<MappingStore, 'get' | 'list' | 'listByCertificate' | 'deleteUnlocked'>;
  /** Per-server results of a job; what each server of a mapping holds; forgotten on delete. */
  readonly servers: Pick<ServerStore, 'listJobResults' | 'installed' | 'forgetMapping'>;
  readonly secrets: Pick<SecretStore, 'scheduleDeletion'>;
  readonly readiness: ReadinessProbe;
  /** Dry runs: the certificate as ACM describes it (never an export). */
  readonly certificates: Pick<CertificateAuthority, 'describe'>;
  /** Dry runs: the managed nodes a target tag reaches (never a command). */
  readonly commands: Pick<CommandRunner, 'managedNodesTagged'>;
}

/** Everything the HTTP app needs; built by the composition root (or a test, or the bench). */
export interface ApiDependencies {
  readonly config: ApiConfig;
  readonly ports: ApiPorts;
  readonly clock: Clock;
  /** The process logger; the app logs through a child that redacts credentials and secrets. */
  readonly logger: Logger;
  /** From `createAuthenticator(config.auth, …)` (auth/authenticator.ts). */
  readonly authenticator: Authenticator;
  /** Told of mappings that stop being managed (their series go); absent: nothing measured. */
  readonly metrics?: Pick<Metrics, 'mappingForgotten'>;
}
