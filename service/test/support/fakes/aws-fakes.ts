import { TerminalError } from '../../../src/domain/errors.ts';
import { SecretValue } from '../../../src/domain/secret-value.ts';
import type { DeployMessage } from '../../../src/messages/deploy-message.ts';
import type {
  CertificateAuthority,
  CertificateDescription,
  ExportedBundle,
} from '../../../src/ports/certificate-authority.ts';
import type { Clock } from '../../../src/ports/clock.ts';
import type {
  CommandProgress,
  CommandRunner,
  ManagedNode,
  SendCommandInput,
} from '../../../src/ports/command-runner.ts';
import type { InstanceDirectory, InstanceInfo } from '../../../src/ports/instance-directory.ts';
import type { JobQueue, QueueMessage } from '../../../src/ports/job-queue.ts';
import type { SecretStore } from '../../../src/ports/secret-store.ts';

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = '2026-11-27T00:00:00.000Z') {
    this.#now = Date.parse(start);
  }
  now() {
    return new Date(this.#now);
  }
  advance(ms: number) {
    this.#now += ms;
  }
}

/** ACM with one or more certificates; every export is recorded with the passphrase used. */
export class FakeCertificateAuthority implements CertificateAuthority {
  readonly certificates = new Map<
    string,
    { description: CertificateDescription; bundle: ExportedBundle }
  >();
  readonly exports: { arn: string; passphrase: string }[] = [];
  /** Every DescribeCertificate asked, by ARN. */
  readonly describes: string[] = [];
  /** Errors the next DescribeCertificate calls throw, in order. */
  failNext: unknown[] = [];
  /** Errors the next ExportCertificate calls throw, in order. */
  failNextExport: unknown[] = [];

  add(description: Partial<CertificateDescription> & { arn: string }, bundle: ExportedBundle) {
    this.certificates.set(description.arn, {
      description: { status: 'ISSUED', type: 'PRIVATE', exportable: true, ...description },
      bundle,
    });
  }

  async describe(arn: string) {
    this.describes.push(arn);
    const next = this.failNext.shift();
    if (next !== undefined) throw next;
    const c = this.certificates.get(arn);
    if (c === undefined)
      throw new TerminalError(
        'CertificateNotFound',
        `certificate ${arn} does not exist in this account and region`,
      );
    return c.description;
  }

  /** Refuses what ACM refuses: a certificate not issued (yet), or not exportable. */
  async export(arn: string, passphrase: SecretValue) {
    const next = this.failNextExport.shift();
    if (next !== undefined) throw next;
    const c = this.certificates.get(arn);
    if (c === undefined)
      throw new TerminalError('CertificateNotFound', `certificate ${arn} does not exist`);
    if (c.description.status !== 'ISSUED')
      throw new TerminalError('CertificateNotIssued', `certificate ${arn} is not issued yet`);
    if (!c.description.exportable)
      throw new TerminalError('CertificateNotExportable', `ACM refused to export ${arn}`);
    this.exports.push({ arn, passphrase: passphrase.reveal() });
    return c.bundle;
  }
}

/** Secrets Manager semantics that matter: versions by token, replay of the same token. */
export class InMemorySecretStore implements SecretStore {
  readonly secrets = new Map<
    string,
    { arn: string; tags: Record<string, string>; versions: Map<string, string> }
  >();
  readonly deleted: string[] = [];
  /** Every version stored, in order (a test counts versions per secret). */
  readonly puts: { name: string; token: string; likelyMissing?: boolean }[] = [];
  readonly reads: { secretId: string; versionId: string }[] = [];

  async putNewVersion(input: {
    name: string;
    tags: Readonly<Record<string, string>>;
    value: SecretValue;
    token: string;
    likelyMissing?: boolean;
  }) {
    let s = this.secrets.get(input.name);
    if (s === undefined) {
      s = {
        arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.name}-AbCdEf`,
        tags: { ...input.tags },
        versions: new Map(),
      };
      this.secrets.set(input.name, s);
    }
    const existing = s.versions.get(input.token);
    if (existing !== undefined && existing !== input.value.reveal()) {
      throw Object.assign(new Error('version exists with other value'), {
        name: 'ResourceExistsException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    s.versions.set(input.token, input.value.reveal());
    this.puts.push({
      name: input.name,
      token: input.token,
      ...(input.likelyMissing === undefined ? {} : { likelyMissing: input.likelyMissing }),
    });
    return { secretArn: s.arn, versionId: input.token };
  }

  async getVersion(secretId: string, versionId: string) {
    this.reads.push({ secretId, versionId });
    const s = [...this.secrets.entries()].find(
      ([name, v]) => name === secretId || v.arn === secretId,
    )?.[1];
    const value = s?.versions.get(versionId);
    if (s === undefined || value === undefined)
      throw new TerminalError('SecretVersionNotFound', `no version ${versionId} of ${secretId}`);
    return { value: new SecretValue(value), secretArn: s.arn };
  }

  async scheduleDeletion(secretId: string) {
    this.deleted.push(secretId);
    return [...this.secrets.entries()].some(([name, v]) => name === secretId || v.arn === secretId);
  }
}

/** Run Command whose progress a test scripts: a queue of snapshots per command. */
export class FakeCommandRunner implements CommandRunner {
  readonly sent: (SendCommandInput & { commandId: string; at: Date; listedFrom?: Date })[] = [];
  /** Progress snapshots returned in order for the next command; the last one repeats. */
  script: Omit<CommandProgress, 'commandId'>[] = [];
  readonly #scripts = new Map<string, Omit<CommandProgress, 'commandId'>[]>();
  failSend: unknown[] = [];
  /**
   * Sends Run Command takes although their answer is lost: the command is kept, listed by
   * findByComment only `listedAfterMs` after it was taken, and `error` is thrown once the clock
   * moved on by `tookMs` (the adapter's looks and backoffs before it gives up).
   */
  loseAnswer: { error: unknown; listedAfterMs: number; tookMs: number }[] = [];
  /** The managed nodes DescribeInstanceInformation shows (a test adds or changes them). */
  readonly nodes = new Map<string, ManagedNode>();
  #n = 0;
  readonly #clock: ManualClock;
  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  async send(input: SendCommandInput) {
    const err = this.failSend.shift();
    if (err !== undefined) throw err;
    const commandId = `cmd-${++this.#n}`;
    const at = this.#clock.now();
    const lost = this.loseAnswer.shift();
    this.sent.push({
      ...input,
      commandId,
      at,
      ...(lost === undefined ? {} : { listedFrom: new Date(at.getTime() + lost.listedAfterMs) }),
    });
    this.#scripts.set(commandId, [...this.script]);
    if (lost !== undefined) {
      this.#clock.advance(lost.tookMs);
      throw lost.error;
    }
    return { commandId };
  }

  async findByComment(documentName: string, comment: string, invokedAfter: Date) {
    const now = this.#clock.now();
    return this.sent.find(
      (c) =>
        c.comment === comment &&
        c.documentName === documentName &&
        c.at >= invokedAfter &&
        (c.listedFrom === undefined || c.listedFrom <= now),
    )?.commandId;
  }

  async managedNodes(instanceIds: readonly string[]) {
    return instanceIds.flatMap((id) => {
      const node = this.nodes.get(id);
      return node === undefined ? [] : [{ ...node }];
    });
  }

  /** Commands the worker asked to cancel, in order. */
  readonly cancelled: string[] = [];
  failCancel: unknown[] = [];

  async cancel(commandId: string) {
    const next = this.failCancel.shift();
    if (next !== undefined) throw next;
    this.cancelled.push(commandId);
  }

  /** Tags of the managed nodes, for managedNodesTagged (set with `tag`). */
  readonly nodeTags = new Map<string, Record<string, string>>();

  tag(instanceId: string, tags: Record<string, string>) {
    this.nodeTags.set(instanceId, { ...tags });
  }

  async managedNodesTagged(target: { key: string; value: string }, _options?: { atMost?: number }) {
    return [...this.nodes.values()]
      .filter((n) => this.nodeTags.get(n.instanceId)?.[target.key] === target.value)
      .map((n) => ({ ...n }));
  }

  /** Marks servers as registered and online with a current agent. */
  online(...instanceIds: string[]) {
    for (const instanceId of instanceIds) {
      this.nodes.set(instanceId, { instanceId, pingStatus: 'Online', agentVersion: '3.3.2957.0' });
    }
  }

  async progress(commandId: string): Promise<CommandProgress> {
    const queue = this.#scripts.get(commandId);
    if (queue === undefined) throw new TerminalError('CommandNotFound', commandId);
    const snapshot = queue.length > 1 ? queue.shift() : queue[0];
    if (snapshot === undefined) throw new Error('no progress scripted');
    return { commandId, ...snapshot };
  }
}

export class InMemoryJobQueue implements JobQueue {
  /** Deploy jobs, in the order sent (`delays` beside them). */
  readonly messages: DeployMessage[] = [];
  readonly delays: (number | undefined)[] = [];
  /** Reconciliation messages (sweep pages and mappings), in the order sent. */
  readonly reconciles: Exclude<QueueMessage, DeployMessage>[] = [];
  async send(message: QueueMessage, options: { delaySeconds?: number } = {}) {
    if (message.type !== 'deploy') {
      this.reconciles.push(structuredClone(message));
      return { messageId: `r-${this.reconciles.length}` };
    }
    this.messages.push(structuredClone(message));
    this.delays.push(options.delaySeconds);
    return { messageId: `m-${this.messages.length}` };
  }
}

/** EC2 with the instances a test adds. */
export class FakeInstanceDirectory implements InstanceDirectory {
  readonly instances = new Map<string, InstanceInfo>();
  failNext: unknown[] = [];

  add(instanceId: string, tags: Record<string, string>, state = 'running') {
    this.instances.set(instanceId, { instanceId, state, tags });
  }

  async describe(instanceId: string) {
    const next = this.failNext.shift();
    if (next !== undefined) throw next;
    return this.instances.get(instanceId);
  }
}
