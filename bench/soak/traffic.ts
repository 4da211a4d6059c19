/**
 * The soak's traffic: a steady mix of what the service's users and AWS send it, each kind
 * sometimes twice (a retry, or EventBridge's and SQS's at-least-once delivery):
 * deployments through the API (both bodies, with an Idempotency-Key as the CLI sends) and
 * straight on the queue, renewals (RenewCertificate on the bed, whose event reaches the queue
 * through EventBridge, and renewal events delivered twice), instance starts, stop-managing and
 * API reads. Everything sent and everything answered is recorded for the checks at the end.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RenewCertificateCommand } from '@aws-sdk/client-acm';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { emulatorAccount, emulatorRegion } from '../../local/stack-env.ts';
import { createAuthToken } from '../../service/src/auth/token-client.ts';
import type { AcceptedJob as InvariantJob, MappingRef } from './invariants-model.ts';
import type { Random } from './random.ts';
import {
  fleet,
  growingTargets,
  type SoakBed,
  serversPerGrowingTarget,
  targetWeights,
} from './soak-bed.ts';

export type Operation =
  | 'deploy-api'
  | 'deploy-export-cert'
  | 'deploy-queue'
  | 'renewal'
  | 'instance-start'
  | 'stop-managing'
  | 'read'
  | 'invalid-message';

/** Relative weights of the operations. */
export const weights: Readonly<Record<Operation, number>> = {
  'deploy-api': 3,
  'deploy-export-cert': 1,
  'deploy-queue': 2,
  renewal: 0.15,
  'instance-start': 0.5,
  'stop-managing': 0.3,
  read: 2.5,
  'invalid-message': 0.1,
};

/**
 * Messages the worker must refuse, each to the dead-letter queue with its reason (a bad input
 * loses nothing and says why): what a misspelt pipeline or a stray producer puts on the queue.
 */
const invalidMessages = [
  (arn: string) => ({
    type: 'deploy',
    version: 1,
    certificateArn: arn,
    certName: '../etc',
    target: { key: 'env', value: 'soak-a' },
  }),
  (arn: string) => ({
    type: 'deploy',
    version: 1,
    certificateArn: arn,
    certName: 'shop',
    target: { key: 'role', value: 'web' },
  }),
  (arn: string) => ({
    type: 'deploy',
    version: 9,
    certificateArn: arn,
    certName: 'shop',
    target: { key: 'env', value: 'soak-a' },
  }),
  () => ({
    CertificateArn: 'not-an-arn',
    CertName: 'shop',
    TargetTagKey: 'env',
    TargetTagValue: 'soak-a',
  }),
];

export type Mapping = MappingRef;

/** A job the service accepted, for the checks (invariants-model.ts) and when it was accepted. */
export type AcceptedJob = InvariantJob & { readonly mapping: MappingRef; readonly at: number };

export interface TrafficRecord {
  /** Operations started, by kind. */
  readonly sent: Map<string, number>;
  /** Operations sent a second time. */
  readonly duplicated: Map<string, number>;
  /** HTTP statuses (or `error`) by operation, e.g. `deploy-api 202`. */
  readonly answers: Map<string, number>;
  /** Jobs the service accepted (API 202/200 with a job id, or a deploy message put on the queue). */
  readonly accepted: AcceptedJob[];
  readonly stopped: { mapping: Mapping; at: number }[];
  /** Things the service answered that it must never answer (a replay with another job id, a 500…). */
  readonly anomalies: string[];
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** At most this many operations wait for their answers at once. */
export const trafficMaxInFlight = 25;

/** The certificate name each certificate is installed as: one file set per certificate. */
const certNames = ['shop', 'api', 'mail'];

export class Traffic {
  readonly record: TrafficRecord = {
    sent: new Map(),
    duplicated: new Map(),
    answers: new Map(),
    accepted: [],
    stopped: [],
    anomalies: [],
  };
  private token: { value: string; at: number } | undefined;
  private readonly base: string;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();

  private readonly bed: SoakBed;
  private readonly random: Random;
  private readonly duplicates: number;
  /** Called before a mapping is stop-managed (its secret is then scheduled for deletion). */
  private readonly beforeStopManaging: () => Promise<void>;

  constructor(
    bed: SoakBed,
    random: Random,
    apiPort: number,
    duplicates: number,
    beforeStopManaging: () => Promise<void>,
  ) {
    this.bed = bed;
    this.random = random;
    this.duplicates = duplicates;
    this.beforeStopManaging = beforeStopManaging;
    this.base = `http://127.0.0.1:${apiPort}`;
  }

  /** Sends operations at `rate` per second until `until` (epoch ms). */
  async run(rate: number, until: number): Promise<void> {
    let next = Date.now();
    while (Date.now() < until) {
      next += 1000 / rate;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      // A bed too slow to keep up sends fewer operations rather than piling them up.
      if (this.inFlight >= trafficMaxInFlight) continue;
      const op = this.choose();
      this.inFlight++;
      const done = this.perform(op)
        .catch((error: unknown) => {
          bump(this.record.answers, `${op} error`);
          this.record.anomalies.push(`${op}: ${(error as Error).message}`.slice(0, 300));
        })
        .finally(() => {
          this.inFlight--;
          this.pending.delete(done);
        });
      this.pending.add(done);
    }
    await Promise.all([...this.pending]);
  }

  private choose(): Operation {
    const entries = Object.entries(weights) as [Operation, number][];
    let r = this.random.next() * entries.reduce((a, [, w]) => a + w, 0);
    for (const [op, w] of entries) {
      r -= w;
      if (r < 0) return op;
    }
    return 'read';
  }

  private mapping(): Mapping {
    const i = this.random.int(0, this.bed.certificates.length - 1);
    const targets = Object.keys(fleet);
    let r = this.random.next() * targets.reduce((a, t) => a + (targetWeights[t] ?? 1), 0);
    let target = targets[0] as string;
    for (const t of targets) {
      r -= targetWeights[t] ?? 1;
      target = t;
      if (r < 0) break;
    }
    return {
      certificateArn: this.bed.certificates[i] as string,
      certName: certNames[i] ?? `cert${i}`,
      target: { key: 'env', value: target },
    };
  }

  private async perform(op: Operation): Promise<void> {
    bump(this.record.sent, op);
    const twice = this.random.chance(this.duplicates);
    if (twice) bump(this.record.duplicated, op);
    switch (op) {
      case 'deploy-api':
      case 'deploy-export-cert':
        return this.deployThroughApi(op, twice);
      case 'deploy-queue':
        return this.deployThroughQueue(twice);
      case 'renewal':
        return this.renew(twice);
      case 'instance-start':
        return this.startInstance(twice);
      case 'stop-managing':
        return this.stopManaging();
      case 'read':
        return this.read();
      case 'invalid-message':
        return this.sendInvalid(twice);
    }
  }

  private async authorization(): Promise<string> {
    // Tokens live 300 s (AUTH_MAX_TOKEN_AGE_SECONDS); a new one every two minutes.
    if (this.token === undefined || Date.now() - this.token.at > 120_000) {
      const value = await createAuthToken({
        credentials: this.bed.credentials,
        stsEndpoint: this.bed.moto.endpoint,
        region: emulatorRegion,
        audience: 'acm-cert-export',
      });
      this.token = { value, at: Date.now() };
    }
    return this.token.value;
  }

  private async call(
    op: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: await this.authorization(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      bump(this.record.answers, `${op} unanswered`);
      throw new Error(`${method} ${path}: ${(error as Error).message}`);
    }
    bump(this.record.answers, `${op} ${response.status}`);
    const text = await response.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = undefined;
    }
    if (response.status === 500) {
      this.record.anomalies.push(`${op}: 500 from ${method} ${path}: ${text.slice(0, 200)}`);
    }
    return { status: response.status, json };
  }

  /**
   * A deployment through the API with an Idempotency-Key, retried with the same key on a 503
   * as the CLI does; a duplicate sends it again with the key and must get the same job.
   */
  private async deployThroughApi(op: 'deploy-api' | 'deploy-export-cert', twice: boolean) {
    const mapping = this.mapping();
    const body =
      op === 'deploy-api'
        ? {
            certificateArn: mapping.certificateArn,
            certName: mapping.certName,
            target: mapping.target,
          }
        : {
            CertificateArn: mapping.certificateArn,
            CertName: mapping.certName,
            TargetTagKey: mapping.target.key,
            TargetTagValue: mapping.target.value,
          };
    const path = op === 'deploy-api' ? '/v1/deployments' : '/export-cert';
    const key = randomUUID();
    const send = async (): Promise<string | undefined> => {
      // The CLI's way: retry a 503 with the same key until the job is queued (a record left
      // Queued by a caller that gave up is the caller's to retry).
      for (let attempt = 1; attempt <= 10; attempt++) {
        const { status, json } = await this.call(op, 'POST', path, body, {
          'idempotency-key': key,
        });
        if (status === 200 || status === 202) {
          const jobId = json?.jobId;
          if (typeof jobId !== 'string') throw new Error(`${status} without a jobId`);
          return jobId;
        }
        if (status !== 503) {
          this.record.anomalies.push(`${op}: ${status} ${JSON.stringify(json).slice(0, 200)}`);
          return undefined;
        }
        if (attempt === 10) this.record.anomalies.push(`${op}: still 503 after 10 attempts`);
        await sleep(Math.min(500 * attempt, 5000));
      }
      return undefined;
    };
    const first = await send();
    if (first !== undefined) {
      this.record.accepted.push({
        jobId: first,
        via: op === 'deploy-api' ? 'api' : 'export-cert',
        mapping,
        at: Date.now(),
      });
    }
    if (twice) {
      await sleep(this.random.int(0, 3000));
      const again = await send();
      if (first !== undefined && again !== undefined && again !== first) {
        this.record.anomalies.push(`${op}: a replay of ${first} answered another job, ${again}`);
      }
      if (first === undefined && again !== undefined) {
        this.record.accepted.push({
          jobId: again,
          via: op === 'deploy-api' ? 'api' : 'export-cert',
          mapping,
          at: Date.now(),
        });
      }
    }
  }

  /** A v1 job put straight on the queue; a duplicate is the same message sent again. */
  private async deployThroughQueue(twice: boolean) {
    const mapping = this.mapping();
    const jobId = `soak-${randomUUID()}`;
    const body = JSON.stringify({
      type: 'deploy',
      version: 1,
      jobId,
      certificateArn: mapping.certificateArn,
      certName: mapping.certName,
      target: mapping.target,
      trigger: 'queue',
    });
    const send = () =>
      this.bed.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: this.bed.provisioned.queueUrl, MessageBody: body }),
      );
    await send();
    bump(this.record.answers, 'deploy-queue sent');
    this.record.accepted.push({ jobId, via: 'queue', mapping, at: Date.now() });
    if (twice) {
      await sleep(this.random.int(0, 3000));
      await send();
    }
  }

  /**
   * ACM renews a certificate (its event reaches the queue through EventBridge); a duplicate is
   * a renewal event delivered twice (one envelope, one id, sent to the queue two times).
   */
  private async renew(twice: boolean) {
    const certificateArn = this.random.pick(this.bed.certificates);
    try {
      await this.bed.clients.acm.send(
        new RenewCertificateCommand({ CertificateArn: certificateArn }),
      );
      bump(this.record.answers, 'renewal renewed');
    } catch (error) {
      // ACM renews only an eligible certificate (exported since it was issued or renewed).
      bump(this.record.answers, `renewal ${(error as Error).name}`);
    }
    if (twice) {
      const event = JSON.stringify({
        version: '0',
        id: randomUUID(),
        'detail-type': 'ACM Certificate Available',
        source: 'aws.acm',
        account: emulatorAccount,
        time: new Date().toISOString(),
        region: emulatorRegion,
        resources: [certificateArn],
        detail: { Action: 'RENEWAL', CertificateType: 'PRIVATE', Exported: true },
      });
      for (let i = 0; i < 2; i++) {
        await this.bed.clients.sqs.send(
          new SendMessageCommand({ QueueUrl: this.bed.provisioned.queueUrl, MessageBody: event }),
        );
      }
    }
  }

  /** A server starts on a mapped tag: its EC2 state-change event (twice when duplicated). */
  private async startInstance(twice: boolean) {
    const target = this.random.pick(growingTargets);
    const running = this.bed.servers.filter((s) => s.target === target && s.running);
    const oldest = running[0];
    if (running.length >= serversPerGrowingTarget && oldest !== undefined) {
      await this.bed.terminate(oldest);
      bump(this.record.answers, 'instance-start replaced the oldest');
    }
    const server = await this.bed.addServer(target, 'instant');
    const event = JSON.stringify({
      version: '0',
      id: randomUUID(),
      'detail-type': 'EC2 Instance State-change Notification',
      source: 'aws.ec2',
      account: emulatorAccount,
      time: new Date().toISOString(),
      region: emulatorRegion,
      resources: [`arn:aws:ec2:${emulatorRegion}:${emulatorAccount}:instance/${server.instanceId}`],
      detail: { 'instance-id': server.instanceId, state: 'running' },
    });
    for (let i = 0; i < (twice ? 2 : 1); i++) {
      await this.bed.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: this.bed.provisioned.queueUrl, MessageBody: event }),
      );
    }
  }

  /** Stops managing a mapping (409 MAPPING_BUSY while a job of it runs, 404 when unknown). */
  private async stopManaging() {
    const mapping = this.mapping();
    await this.beforeStopManaging();
    const path = `/v1/certificates/${encodeURIComponent(mapping.certificateArn)}/targets/${encodeURIComponent(mapping.target.key)}/${encodeURIComponent(mapping.target.value)}/${encodeURIComponent(mapping.certName)}`;
    const { status } = await this.call('stop-managing', 'DELETE', path);
    if (status >= 200 && status < 300) this.record.stopped.push({ mapping, at: Date.now() });
  }

  /** A message the worker must refuse (to the dead-letter queue, with its reason). */
  private async sendInvalid(twice: boolean) {
    const body = JSON.stringify(
      this.random.pick(invalidMessages)(this.random.pick(this.bed.certificates)),
    );
    for (let i = 0; i < (twice ? 2 : 1); i++) {
      await this.bed.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: this.bed.provisioned.queueUrl, MessageBody: body }),
      );
      bump(this.record.answers, 'invalid-message sent');
    }
  }

  /** A caller following its deployments and looking at what is managed. */
  private async read() {
    const job =
      this.record.accepted.length === 0 ? undefined : this.random.pick(this.record.accepted);
    const arn = this.random.pick(this.bed.certificates);
    const paths = [
      '/v1/certificates',
      `/v1/certificates/${encodeURIComponent(arn)}/targets`,
      `/v1/certificates/${encodeURIComponent(arn)}/deployments`,
      ...(job === undefined
        ? []
        : [`/v1/deployments/${job.jobId}`, `/v1/deployments/${job.jobId}/servers`]),
    ];
    await this.call('read', 'GET', this.random.pick(paths));
  }
}
