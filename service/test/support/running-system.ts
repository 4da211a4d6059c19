import { Writable } from 'node:stream';
import { type AwsProxy, startAwsProxy } from '../../../local/aws-proxy/aws-proxy.ts';
import { type Provisioned, provision } from '../../../local/provision.ts';
import type { RunCommandTiming } from '../../../local/run-command/timing.ts';
import { aStandIn, type StandIn } from '../../../local/test/support/stand-in.ts';
import { buildMetrics, composeWorker } from '../../src/composition.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { SqsWorker } from '../../src/worker/sqs-worker.ts';
import { startWorker } from '../../src/worker/start-worker.ts';
import { testAwsConfig, testClients } from './aws.ts';
import { motoEndpoint } from './bed-lane.ts';

export interface SystemOptions {
  /** Throttle this share of the service's JSON-protocol AWS calls (SQS receive excluded). */
  readonly throttleShare?: number;
  /** ExportCertificate calls per second the test bed allows (ACM's quota is 5). */
  readonly exportRatePerSecond?: number;
  /** Extra service environment. */
  readonly env?: Record<string, string>;
  readonly timing?: Partial<RunCommandTiming>;
  /** Start the in-process worker (default true). */
  readonly worker?: boolean;
  /**
   * Count the service's AWS requests: a proxy in front of the emulator and one in front of the
   * Run Command stand-in (`proxy` and `ssmProxy`).
   */
  readonly countRequests?: boolean;
  /**
   * The container engine (DOCKER_HOST form) that runs the scripts of stand-in servers that are
   * containers (tag `standin:container`).
   */
  readonly containerEngine?: string;
}

/**
 * The whole system on one machine for integration tests: moto (from the global setup), the Run
 * Command stand-in, the provisioned tables/queues/rule/document, and the worker in this process,
 * optionally behind a proxy that counts and throttles AWS calls.
 */
export async function aRunningSystem(options: SystemOptions = {}) {
  const moto = motoEndpoint();
  // Its servers name themselves: their reads of the service's secrets are evaluated (ABAC).
  const standIn: StandIn = await aStandIn(options.timing, {
    nameServers: true,
    ...(options.containerEngine === undefined ? {} : { containerEngine: options.containerEngine }),
  });
  const needsProxy =
    options.throttleShare !== undefined ||
    options.exportRatePerSecond !== undefined ||
    options.countRequests === true;
  const proxy: AwsProxy | undefined = needsProxy
    ? await startAwsProxy({
        target: moto,
        ...(options.throttleShare === undefined ? {} : { throttleShare: options.throttleShare }),
        ...(options.exportRatePerSecond === undefined
          ? {}
          : {
              rates: [
                {
                  operation: 'CertificateManager.ExportCertificate',
                  perSecond: options.exportRatePerSecond,
                },
              ],
            }),
        neverThrottle: ['AmazonSQS.ReceiveMessage'],
      })
    : undefined;
  const ssmProxy: AwsProxy | undefined =
    options.countRequests === true
      ? await startAwsProxy({ target: standIn.server.endpoint })
      : undefined;
  const clients = testClients(testAwsConfig({ AWS_ENDPOINT_URL_SSM: standIn.server.endpoint }));
  const provisioned: Provisioned = await provision(
    {
      dynamodb: clients.dynamodbRaw,
      sqs: clients.sqs,
      eventbridge: clients.eventbridge,
      ssm: clients.ssm,
      sns: clients.sns,
    },
    { eventSources: ['aws.acm', 'test.acm'] },
  );
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy?.endpoint ?? moto,
    AWS_ENDPOINT_URL_SSM: ssmProxy?.endpoint ?? standIn.server.endpoint,
    AWS_MAX_ATTEMPTS: '3',
    QUEUE_URL: provisioned.queueUrl,
    DLQ_URL: provisioned.deadLetterQueueUrl,
    // As the stack: the worker publishes its notifications to the alarm topic.
    NOTIFY_TOPIC_ARN: provisioned.notifyTopicArn ?? '',
    WORKER_RECEIVE_WAIT_SECONDS: '1',
    WORKER_CONCURRENCY: '4',
    // The command watcher's fallback look: the stand-in's status-change events resume a job
    // sooner; every 2 s keeps a test going if one is late.
    COMMAND_LOOK_SECONDS: '2',
    CANCEL_CHECK_SECONDS: '1',
    POLL_INITIAL_SECONDS: '1',
    POLL_MAX_SECONDS: '2',
    LOCK_RETRY_SECONDS: '1',
    INSTANCE_SETTLE_SECONDS: '0',
    AUTH_MODE: 'none',
    API_ENABLED: 'false',
    LOG_LEVEL: 'debug',
    // A service process started with this environment serves /metrics on loopback, on a free
    // port: several at once never fight over 9464.
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    ...options.env,
  };
  const config: Config = loadConfig(env);
  const logLines: string[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _e, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  // The process's metrics as main.ts builds them; its EMF lines (METRICS_EMF) kept here.
  const emfLines: string[] = [];
  const metrics = buildMetrics(config, undefined, (line) => emfLines.push(line));
  const {
    clients: serviceClients,
    ports,
    worker: deps,
  } = composeWorker(config, logger, undefined, [], metrics);
  let worker: SqsWorker | undefined;
  if (options.worker !== false) worker = startWorker(config, serviceClients.sqs, deps);
  return {
    env,
    config,
    clients,
    ports,
    provisioned,
    standIn,
    proxy,
    ssmProxy,
    logLines,
    metrics,
    emfLines,
    async stop() {
      await worker?.stop(5000);
      serviceClients.destroy();
      await proxy?.stop();
      await ssmProxy?.stop();
      await standIn.stop();
    },
  };
}

export type RunningSystem = Awaited<ReturnType<typeof aRunningSystem>>;
