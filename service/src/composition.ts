import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { AcmRegions } from './adapters/acm-certificate-authority.ts';
import { AwsReadinessProbe } from './adapters/aws-readiness.ts';
import { DynamoDbDeploymentStore } from './adapters/dynamodb-deployment-store.ts';
import { DynamoDbExportQuotaLeases } from './adapters/dynamodb-export-quota-leases.ts';
import { DynamoDbMappingStore } from './adapters/dynamodb-mapping-store.ts';
import { DynamoDbServerStore } from './adapters/dynamodb-server-store.ts';
import { EcsAgentTaskProtection } from './adapters/ecs-agent-task-protection.ts';
import { lazyPort } from './adapters/lazy-port.ts';
import { LogOnlyNotifier } from './adapters/log-only-notifier.ts';
import type { RateLimiter } from './adapters/rate-limiter.ts';
import { SharedExportQuota } from './adapters/shared-export-quota.ts';
import { SqsJobQueue } from './adapters/sqs-job-queue.ts';
import type { ApiDependencies } from './api/dependencies.ts';
import { createAuthenticator } from './auth/authenticator.ts';
import {
  type AwsClients,
  type ClientPlugin,
  createAwsClients,
  type JobClients,
  serviceAppId,
} from './aws/clients.ts';
import type { Config } from './config/config.ts';
import { awsCallMetricsPlugin } from './metrics/aws-call-metrics.ts';
import { EmfMetrics } from './metrics/emf-metrics.ts';
import { fanOutMetrics } from './metrics/fan-out.ts';
import { PrometheusMetrics } from './metrics/prometheus-metrics.ts';
import type { CertificateAuthority } from './ports/certificate-authority.ts';
import { type Clock, systemClock } from './ports/clock.ts';
import type { CommandRunner } from './ports/command-runner.ts';
import type { InstanceDirectory } from './ports/instance-directory.ts';
import { type Metrics, noMetrics } from './ports/metrics.ts';
import type { Notifier } from './ports/notifier.ts';
import type { SecretStore } from './ports/secret-store.ts';
import { createScaleInGuard, type ScaleInGuard } from './worker/scale-in-guard.ts';
import type { WorkerDeps, WorkerSettings } from './worker/worker-deps.ts';

/** ACM per region: the clients' own (built on first use), and one export limiter each. */
function acmRegions(clients: JobClients, newLimiter: (region: string) => RateLimiter): AcmRegions {
  const limiters = new Map<string, RateLimiter>();
  return {
    client: (region) => clients.acmIn(region),
    exportLimiter(region) {
      let limiter = limiters.get(region);
      if (limiter === undefined) {
        limiter = newLimiter(region);
        limiters.set(region, limiter);
      }
      return limiter;
    },
  };
}

/** This process in the export quota's shared item. */
const quotaTaskId = `${hostname()}/${randomUUID().slice(0, 8)}`;

/**
 * A region's ExportCertificate quota, shared with every other task through claims in the
 * deployments table (one UpdateItem per heartbeat while exports wait, none per export).
 */
function sharedExportQuota(
  config: Config,
  clients: AwsClients,
  region: string,
  clock: Clock,
  logger: Logger | undefined,
): RateLimiter {
  return new SharedExportQuota({
    leases: new DynamoDbExportQuotaLeases(clients.dynamodb, config.tables.deployments, region),
    taskId: quotaTaskId,
    quotaPerSecond: config.acm.exportQuotaPerSecond,
    heartbeatMs: config.acm.exportQuotaHeartbeatSeconds * 1000,
    clock,
    sleep: (ms, background) => sleep(ms, undefined, { ref: !background }),
    ...(logger === undefined ? {} : { log: logger.child({ region, exportQuota: quotaTaskId }) }),
  });
}

/**
 * Every adapter, built once from one set of clients. The adapters of ACM, Secrets Manager, SSM,
 * EC2 and SNS are loaded, with their clients and SDK packages, on their port's first call
 * (lazyPort): the process starts and idles without them (docs/benchmarks.md, Process).
 */
export function buildPorts(
  config: Config,
  clients: AwsClients,
  context: { clock?: Clock; logger?: Logger } = {},
) {
  const clock = context.clock ?? systemClock;
  const { topicArn } = config.notifications;
  return {
    certificates: lazyPort<CertificateAuthority>(async () => {
      const [{ AcmCertificateAuthority }, aws] = await Promise.all([
        import('./adapters/acm-certificate-authority.ts'),
        clients.jobClients(),
      ]);
      return new AcmCertificateAuthority(
        acmRegions(aws, (region) =>
          sharedExportQuota(config, clients, region, clock, context.logger),
        ),
        config.aws.region,
      );
    }),
    secrets: lazyPort<SecretStore>(async () => {
      const [{ SecretsManagerSecretStore }, aws] = await Promise.all([
        import('./adapters/secrets-manager-secret-store.ts'),
        clients.jobClients(),
      ]);
      return new SecretsManagerSecretStore(
        aws.secretsManager,
        config.secrets.kmsKeyId === undefined ? {} : { kmsKeyId: config.secrets.kmsKeyId },
      );
    }),
    mappings: new DynamoDbMappingStore(clients.dynamodb, config.tables.mappings),
    deployments: new DynamoDbDeploymentStore(clients.dynamodb, config.tables.deployments),
    servers: new DynamoDbServerStore(clients.dynamodb, config.tables.servers),
    commands: lazyPort<CommandRunner>(async () => {
      const [{ SsmCommandRunner }, aws] = await Promise.all([
        import('./adapters/ssm-command-runner.ts'),
        clients.jobClients(),
      ]);
      return new SsmCommandRunner(aws.ssm, {
        client: aws.ssmSendCommand,
        attempts: config.aws.maxAttempts,
        clock,
      });
    }),
    instances: lazyPort<InstanceDirectory>(async () => {
      const [{ Ec2InstanceDirectory }, aws] = await Promise.all([
        import('./adapters/ec2-instance-directory.ts'),
        clients.jobClients(),
      ]);
      return new Ec2InstanceDirectory(aws.ec2);
    }),
    queue: new SqsJobQueue(clients.sqs, config.worker.queueUrl),
    /** Undefined without NOTIFY_TOPIC_ARN: the worker then only logs its notifications. */
    notifier:
      topicArn === undefined
        ? undefined
        : lazyPort<Notifier>(async () => {
            const [{ SnsNotifier }, aws] = await Promise.all([
              import('./adapters/sns-notifier.ts'),
              clients.jobClients(),
            ]);
            return new SnsNotifier(aws.sns, topicArn);
          }),
    readiness: new AwsReadinessProbe(clients.sqs, clients.dynamodb, config.worker.queueUrl, {
      mappings: config.tables.mappings,
      deployments: config.tables.deployments,
    }),
  };
}

export type Ports = ReturnType<typeof buildPorts>;

export function workerSettings(config: Config): WorkerSettings {
  return {
    documentName: config.ssm.documentName,
    ...(config.ssm.documentVersion === undefined
      ? {}
      : { documentVersion: config.ssm.documentVersion }),
    maxConcurrency: config.ssm.maxConcurrency,
    maxErrors: config.ssm.maxErrors,
    commandTimeoutSeconds: config.ssm.timeoutSeconds,
    secretPrefix: config.secrets.prefix,
    secretRecoveryDays: config.secrets.deletionRecoveryDays,
    pollInitialSeconds: config.worker.pollInitialSeconds,
    pollMaxSeconds: config.worker.pollMaxSeconds,
    commandLookSeconds: config.worker.commandLookSeconds,
    jobTimeoutSeconds: config.worker.jobTimeoutSeconds,
    maxFailures: config.worker.maxFailures,
    lockRetrySeconds: config.worker.lockRetrySeconds,
    allowedCertificateArns: config.allowedCertificateArns,
    instanceSettleSeconds: config.worker.instanceSettleSeconds,
    agentWaitSeconds: config.worker.agentWaitSeconds,
    policy: config.policy,
    expiryNotifyDays: config.notifications.expiryDays,
    renewalGraceHours: config.notifications.renewalGraceHours,
    metricsNamespace: config.metrics.namespace,
  };
}

/**
 * The process's metrics: Prometheus series (served by main.ts on METRICS_PORT when
 * METRICS_ENABLED) and, with METRICS_EMF, Embedded Metric Format lines on stdout, flushed by
 * whoever runs the process (main.ts on a timer and at stop, lambda.ts after each invocation).
 */
export interface ProcessMetrics {
  readonly metrics: Metrics;
  /** Undefined when METRICS_ENABLED is false: nothing to serve. */
  readonly prometheus?: PrometheusMetrics;
  readonly emf?: EmfMetrics;
}

export function buildMetrics(
  config: Config,
  clock: Clock = systemClock,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): ProcessMetrics {
  const prometheus = config.metrics.enabled
    ? new PrometheusMetrics({
        clock,
        maxMappings: config.metrics.maxMappings,
        processMetrics: true,
      })
    : undefined;
  const emf = config.metrics.emf
    ? new EmfMetrics({ namespace: config.metrics.namespace, clock, write })
    : undefined;
  const sinks = [prometheus, emf].filter(
    (m): m is PrometheusMetrics | EmfMetrics => m !== undefined,
  );
  return {
    metrics: sinks.length === 0 ? noMetrics : fanOutMetrics(sinks),
    ...(prometheus === undefined ? {} : { prometheus }),
    ...(emf === undefined ? {} : { emf }),
  };
}

async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks the signal
  }
}

export function buildWorkerDeps(
  config: Config,
  ports: Ports,
  logger: Logger,
  clock: Clock = systemClock,
  metrics: Metrics = noMetrics,
): WorkerDeps {
  if (ports.notifier === undefined && config.worker.enabled) {
    logger.warn(
      'NOTIFY_TOPIC_ARN is unset: the expiry check logs its notifications and publishes none',
    );
  }
  return {
    certificates: ports.certificates,
    secrets: ports.secrets,
    mappings: ports.mappings,
    deployments: ports.deployments,
    servers: ports.servers,
    commands: ports.commands,
    instances: ports.instances,
    queue: ports.queue,
    notifier: ports.notifier ?? new LogOnlyNotifier(logger),
    metrics,
    clock,
    logger,
    settings: workerSettings(config),
    sleep: abortableSleep,
  };
}

export function buildApiDependencies(
  config: Config,
  ports: Ports,
  logger: Logger,
  clock: Clock = systemClock,
  metrics?: Metrics,
): ApiDependencies {
  return {
    config,
    ports: {
      jobs: ports.queue,
      deployments: ports.deployments,
      servers: ports.servers,
      mappings: ports.mappings,
      secrets: ports.secrets,
      readiness: ports.readiness,
      certificates: ports.certificates,
      commands: ports.commands,
    },
    clock,
    logger,
    authenticator: createAuthenticator(config.auth, { clock }),
    ...(metrics === undefined ? {} : { metrics }),
  };
}

/**
 * Scale-in protection for the worker's task, only where an ECS agent can give it (ECS_AGENT_URI
 * is set by the agent in every ECS container; locally and in Lambda there is none).
 */
export function buildScaleInGuard(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
): ScaleInGuard | undefined {
  const { agentUri, minutes, releaseAfterIdleSeconds } = config.scaleInProtection;
  if (agentUri === undefined || !config.worker.enabled) return undefined;
  return createScaleInGuard({
    // The agent calls ECS for us; 5 s bounds how long a message waits for it before it starts
    // unprotected.
    protection: new EcsAgentTaskProtection(agentUri, { timeoutMs: 5000 }),
    clock,
    logger,
    minutes,
    releaseAfterIdleMs: releaseAfterIdleSeconds * 1000,
    // An agent that failed is not asked again for every message.
    retryAfterFailureMs: 60_000,
  });
}

/**
 * The worker's part of the graph alone: its clients, ports, handler dependencies and guard.
 * `plugins` add middleware to every client (the benchmark's request counter); the metrics' AWS
 * call counter is added to every client besides (`measured`: buildMetrics' by default).
 */
export function composeWorker(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
  plugins: readonly ClientPlugin[] = [],
  measured: ProcessMetrics = buildMetrics(config, clock),
) {
  const clients = createAwsClients(
    config.aws,
    serviceAppId({ api: config.api.enabled, worker: config.worker.enabled }),
    measured.metrics === noMetrics ? plugins : [...plugins, awsCallMetricsPlugin(measured.metrics)],
  );
  const ports = buildPorts(config, clients, { clock, logger });
  return {
    clients,
    ports,
    metrics: measured,
    worker: buildWorkerDeps(config, ports, logger, clock, measured.metrics),
    scaleInGuard: buildScaleInGuard(config, logger, clock),
  };
}

/** The whole object graph of one process. */
export function compose(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
  measured: ProcessMetrics = buildMetrics(config, clock),
) {
  const graph = composeWorker(config, logger, clock, [], measured);
  return {
    ...graph,
    api: buildApiDependencies(config, graph.ports, logger, clock, graph.metrics.metrics),
  };
}
