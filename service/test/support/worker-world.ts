import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { SecretValue } from '../../src/domain/secret-value.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { InvocationResult } from '../../src/ports/command-runner.ts';
import type { HandlerOutcome } from '../../src/worker/handler-outcome.ts';
import { route } from '../../src/worker/router.ts';
import type { WorkerDeps, WorkerSettings } from '../../src/worker/worker-deps.ts';
import {
  FakeCertificateAuthority,
  FakeCommandRunner,
  FakeInstanceDirectory,
  InMemoryJobQueue,
  InMemorySecretStore,
  ManualClock,
} from './fakes/aws-fakes.ts';
import { FakeNotifier } from './fakes/notifier.ts';
import {
  InMemoryDeploymentStore,
  InMemoryMappingStore,
  InMemoryServerStore,
} from './fakes/stores.ts';
import { RecordingMetrics } from './recording-metrics.ts';

export const certA = readFileSync(new URL('./fixtures/cert-a.pem', import.meta.url), 'utf8');
export const certB = readFileSync(new URL('./fixtures/cert-b.pem', import.meta.url), 'utf8');
export const arnA =
  'arn:aws:acm:us-east-1:123456789012:certificate/aaaaaaaa-1111-2222-3333-444444444444';
/** A certificate's serial as DescribeCertificate returns it (`0a:1b:…`). */
export function acmSerial(pem: string): string {
  return (new X509Certificate(pem).serialNumber.toLowerCase().match(/../g) ?? []).join(':');
}

export const encryptedKey =
  '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFAKE\n-----END ENCRYPTED PRIVATE KEY-----\n';

export const testSettings: WorkerSettings = {
  documentName: 'Install-ACMCertificate',
  maxConcurrency: '50',
  maxErrors: '0',
  commandTimeoutSeconds: 600,
  secretPrefix: 'acm-passphrase/',
  secretRecoveryDays: 7,
  pollInitialSeconds: 1,
  pollMaxSeconds: 30,
  commandLookSeconds: 5,
  jobTimeoutSeconds: 3600,
  maxFailures: 3,
  lockRetrySeconds: 5,
  allowedCertificateArns: [],
  instanceSettleSeconds: 60,
  agentWaitSeconds: 900,
  policy: {
    targetTagKeys: ['env'],
    allowedReloadCommands: ['/usr/sbin/nginx -s reload'],
    certificateRegions: ['us-east-1'],
  },
  expiryNotifyDays: 14,
  renewalGraceHours: 24,
};

/** The JSON line the install script prints last. */
export function summaryLine(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    outcome: 'installed',
    serial: '01',
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2027-01-01T00:00:00Z',
    sha256: 'AA:BB',
    files: ['/etc/ssl/certs/web-fullchain.pem'],
    reloaded: false,
    message: 'installed',
    ...overrides,
  });
}

export function anInvocation(
  o: Partial<InvocationResult> & { instanceId: string },
): InvocationResult {
  return {
    status: 'Success',
    statusDetails: 'Success',
    responseCode: 0,
    output: `${summaryLine()}\n`,
    ...o,
  };
}

export function progress(
  status: string,
  invocations: InvocationResult[],
  extra: { statusDetails?: string; targetCount?: number } = {},
) {
  const done = invocations.filter((i) => !['Pending', 'InProgress', 'Delayed'].includes(i.status));
  return {
    status,
    statusDetails: extra.statusDetails ?? status,
    targetCount: extra.targetCount ?? invocations.length,
    completedCount: done.length,
    errorCount: done.filter((i) => i.status !== 'Success').length,
    invocations,
  };
}

/** Everything a worker unit test needs: fakes behind every port, a log capture, a delivery loop. */
export function workerWorld(settings: Partial<WorkerSettings> = {}) {
  const clock = new ManualClock();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const certificates = new FakeCertificateAuthority();
  certificates.add(
    // As ACM's DescribeCertificate writes it: colon-separated hex.
    { arn: arnA, serial: acmSerial(certA) },
    { certificate: certA, chain: certB, encryptedPrivateKey: new SecretValue(encryptedKey) },
  );
  const deps = {
    certificates,
    secrets: new InMemorySecretStore(),
    mappings: new InMemoryMappingStore(),
    deployments: new InMemoryDeploymentStore(),
    servers: new InMemoryServerStore(),
    commands: new FakeCommandRunner(clock),
    instances: new FakeInstanceDirectory(),
    queue: new InMemoryJobQueue(),
    notifier: new FakeNotifier(),
    metrics: new RecordingMetrics(),
    clock,
    logger: createLogger('debug', sink),
    settings: { ...testSettings, ...settings },
    sleep: async (ms: number) => {
      clock.advance(ms);
    },
  } satisfies WorkerDeps;
  let receives = 0;
  return {
    ...deps,
    deps,
    logLines,
    /** Delivers a body as SQS would (same message id = a redelivery), returns the handler's outcome. */
    async deliver(
      body: unknown,
      messageId = 'msg-1',
      receiveCount?: number,
    ): Promise<HandlerOutcome> {
      receives++;
      return route(
        {
          messageId,
          receiveCount: receiveCount ?? receives,
          body: typeof body === 'string' ? body : JSON.stringify(body),
          signal: new AbortController().signal,
        },
        deps,
      );
    },
  };
}

/**
 * Makes the worker die right after SendCommand, once: the command went out, and the pickup
 * fails before it records it, as if the process were killed between the call and the record.
 */
export function crashOnceAfterSendCommand(w: ReturnType<typeof workerWorld>): void {
  const realSend = w.commands.send.bind(w.commands);
  let crashed = false;
  w.commands.send = async (input) => {
    const sent = await realSend(input);
    if (!crashed) {
      // The command went out; the worker stops before it records anything of it.
      crashed = true;
      throw new Error('process killed');
    }
    return sent;
  };
}

export function aDeployMessage(overrides: Record<string, unknown> = {}) {
  return {
    type: 'deploy',
    version: 1,
    jobId: 'job-00000001',
    certificateArn: arnA,
    certName: 'web',
    target: { key: 'env', value: 'dev' },
    ...overrides,
  };
}
