import { setTimeout as sleep } from 'node:timers/promises';
import {
  CancelCommandCommand,
  type Command,
  type CommandInvocation,
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
  type SendCommandCommandOutput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { TerminalError } from '../domain/errors.ts';
import type { TargetTag } from '../domain/target.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type {
  CommandProgress,
  CommandRunner,
  InvocationResult,
  ManagedNode,
  ProgressOptions,
  SendCommandInput,
} from '../ports/command-runner.ts';
import { classify, isRetryable, mayHaveActed, withRetry } from './aws-errors.ts';

/** Command statuses after which no invocation changes any more. */
const endedStatuses = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
/** Invocation statuses after which nothing changes (Delayed, Pending, InProgress, Cancelling do). */
const endedInvocationStatuses = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

const terminal = {
  InvalidDocument: 'InvalidDocument',
  InvalidDocumentVersion: 'InvalidDocument',
  InvalidParameters: 'InvalidParameters',
  MaxDocumentSizeExceeded: 'InvalidParameters',
  UnsupportedPlatformType: 'UnsupportedPlatform',
  InvalidRole: 'InvalidParameters',
  InvalidNotificationConfig: 'InvalidParameters',
  InvalidOutputFolder: 'InvalidParameters',
  DuplicateInstanceId: 'InvalidParameters',
  InvalidInstanceId: 'InvalidTarget',
};

export interface SendOptions {
  /**
   * The client SendCommand goes through, built with maxAttempts 1: SendCommand has no
   * idempotency token, so the SDK must never resend it (see `send`).
   */
  readonly client: SSMClient;
  /** Attempts at sending one command, the first included (AWS_MAX_ATTEMPTS). */
  readonly attempts: number;
  readonly clock?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  /** 0..1, for the jitter of the backoff after a throttle. */
  readonly random?: () => number;
  /**
   * The waits before each look for a command that a failed attempt may have sent: a command
   * just sent can take a moment to be listed (eventual consistency), so it is looked for more
   * than once before the failure is thrown (the dispatch step looks again later).
   */
  readonly lookDelaysMs?: readonly number[];
}

/** Looked for at once, then 1, 2 and 4 s later: 7 s in all before the failure is thrown. */
const defaultLookDelaysMs = [0, 1_000, 2_000, 4_000];
/**
 * How far before the first attempt a command is looked for: the command's RequestedDateTime is
 * Run Command's clock, and SigV4 accepts requests signed up to 5 minutes off it.
 */
const clockSkewMs = 5 * 60_000;
const throttleBackoff = { minMs: 250, maxMs: 10_000 };

/** SSM Run Command through the SDK (AWS, or the local stand-in through its endpoint). */
export class SsmCommandRunner implements CommandRunner {
  readonly #ssm: SSMClient;
  readonly #send: Required<SendOptions>;

  /**
   * `ssm` for every call but SendCommand (retried by the SDK and `withRetry`); SendCommand goes
   * through `send.client`, which does not retry.
   */
  constructor(ssm: SSMClient, send: SendOptions) {
    this.#ssm = ssm;
    this.#send = {
      clock: systemClock,
      sleep: (ms) => sleep(ms),
      random: Math.random,
      lookDelaysMs: defaultLookDelaysMs,
      ...send,
    };
  }

  /**
   * Sends the command, never twice. SendCommand has no idempotency token: an attempt whose
   * answer was lost (dropped connection, timeout, 5xx) may have been carried out, so the command
   * is looked for by its comment (unique to the job's phase) and returned when found. When it is
   * not found, it is not sent again here: Run Command may still be taking it (a request cut
   * while it was being processed) or not list it yet, for longer than these looks. The error is
   * thrown, retryable, and the dispatch step looks again once the command would be listed
   * (`dispatchSettleMs` after this failure) before it sends. A throttle or another refusal (4xx)
   * was not carried out: sent again after a backoff, up to `attempts`, then thrown.
   */
  async send(input: SendCommandInput): Promise<{ commandId: string }> {
    const { client, attempts, clock, random } = this.#send;
    const invokedAfter = new Date(clock.now().getTime() - clockSkewMs);
    const request: SendCommandCommandInput = {
      DocumentName: input.documentName,
      ...(input.documentVersion === undefined ? {} : { DocumentVersion: input.documentVersion }),
      ...(input.instanceIds === undefined
        ? { Targets: [{ Key: `tag:${input.target.key}`, Values: [input.target.value] }] }
        : { InstanceIds: [...input.instanceIds] }),
      Parameters: Object.fromEntries(Object.entries(input.parameters).map(([k, v]) => [k, [v]])),
      Comment: input.comment,
      MaxConcurrency: input.maxConcurrency,
      MaxErrors: input.maxErrors,
      TimeoutSeconds: input.timeoutSeconds,
    };
    for (let attempt = 1; ; attempt += 1) {
      const result: { out: SendCommandCommandOutput } | { failure: unknown } = await client
        .send(new SendCommandCommand(request))
        .then(
          (out) => ({ out }),
          (error: unknown) => ({
            failure: classify(error, terminal, (n) => `SSM ${n} sending ${input.documentName}`),
          }),
        );
      if ('out' in result) {
        const commandId = result.out.Command?.CommandId;
        if (commandId === undefined) throw new Error('SendCommand returned no command id');
        return { commandId };
      }
      const { failure } = result;
      if (!isRetryable(failure)) throw failure;
      if (mayHaveActed(failure)) {
        const found = await this.#sentBefore(input, invokedAfter);
        if (found !== undefined) return { commandId: found };
        throw failure;
      }
      if (attempt >= attempts) throw failure;
      const ceiling = Math.min(throttleBackoff.maxMs, throttleBackoff.minMs * 2 ** (attempt - 1));
      await this.#send.sleep(ceiling * (0.5 + random() / 2));
    }
  }

  /** The command a failed attempt sent, looked for more than once (eventual consistency). */
  async #sentBefore(input: SendCommandInput, invokedAfter: Date): Promise<string | undefined> {
    for (const delay of this.#send.lookDelaysMs) {
      if (delay > 0) await this.#send.sleep(delay);
      const found = await this.findByComment(input.documentName, input.comment, invokedAfter);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  async findByComment(
    documentName: string,
    comment: string,
    invokedAfter: Date,
  ): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const out = await withRetry(() =>
        this.#ssm.send(
          new ListCommandsCommand({
            Filters: [
              { key: 'DocumentName', value: documentName },
              { key: 'InvokedAfter', value: invokedAfter.toISOString() },
            ],
            NextToken: nextToken,
          }),
        ),
      );
      const found = (out.Commands ?? []).find(
        (c) =>
          c.Comment === comment &&
          c.DocumentName === documentName &&
          (c.RequestedDateTime === undefined || c.RequestedDateTime >= invokedAfter),
      );
      if (found?.CommandId !== undefined) return found.CommandId;
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return undefined;
  }

  async progress(commandId: string, options: ProgressOptions = {}): Promise<CommandProgress> {
    if (options.endedAs !== undefined && endedStatuses.has(options.endedAs)) {
      const invocations = await this.#invocations(commandId);
      if (invocations.length > 0) {
        const done = invocations.filter((i) => endedInvocationStatuses.has(i.status));
        return {
          commandId,
          status: options.endedAs,
          statusDetails: options.endedAs,
          targetCount: invocations.length,
          completedCount: done.length,
          errorCount: invocations.filter(
            (i) =>
              i.status === 'Failed' ||
              (i.status === 'TimedOut' &&
                i.statusDetails.replace(/\s+/g, '') === 'ExecutionTimedOut'),
          ).length,
          invocations,
        };
      }
    }
    const listed = await withRetry(async () => {
      try {
        return await this.#ssm.send(new ListCommandsCommand({ CommandId: commandId }));
      } catch (error) {
        throw classify(
          error,
          { InvalidCommandId: 'CommandNotFound' },
          (n) => `SSM ${n} for ${commandId}`,
        );
      }
    });
    const command: Command | undefined = listed.Commands?.[0];
    const invocations: InvocationResult[] = [];
    const ended =
      command !== undefined &&
      (endedStatuses.has(command.Status ?? '') ||
        (command.StatusDetails ?? '').replace(/\s+/g, '').toLowerCase() === 'noinstancesintag');
    if (ended || options.invocations === true) {
      invocations.push(...(await this.#invocations(commandId)));
    }
    if (command === undefined) {
      // Eventual consistency right after SendCommand: not yet visible is "not yet", not "gone".
      return {
        commandId,
        status: 'Pending',
        statusDetails: 'Pending',
        targetCount: 0,
        completedCount: 0,
        errorCount: 0,
        invocations,
      };
    }
    if (command.CommandId !== commandId)
      throw new TerminalError('CommandNotFound', `SSM returned another command than ${commandId}`);
    return {
      commandId,
      status: command.Status ?? 'Pending',
      statusDetails: command.StatusDetails ?? command.Status ?? 'Pending',
      targetCount: command.TargetCount ?? 0,
      completedCount: command.CompletedCount ?? 0,
      errorCount: command.ErrorCount ?? 0,
      invocations,
    };
  }

  /** Every invocation of the command with its output, 50 to a page. */
  async #invocations(commandId: string): Promise<InvocationResult[]> {
    const invocations: InvocationResult[] = [];
    let nextToken: string | undefined;
    do {
      const out = await withRetry(() =>
        this.#ssm.send(
          new ListCommandInvocationsCommand({
            CommandId: commandId,
            Details: true,
            MaxResults: 50,
            NextToken: nextToken,
          }),
        ),
      );
      for (const inv of out.CommandInvocations ?? []) invocations.push(toResult(inv));
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return invocations;
  }

  async managedNodes(instanceIds: readonly string[]): Promise<ManagedNode[]> {
    return this.#describeNodes([{ Key: 'InstanceIds', Values: [...instanceIds] }]);
  }

  async cancel(commandId: string): Promise<void> {
    await withRetry(async () => {
      try {
        await this.#ssm.send(new CancelCommandCommand({ CommandId: commandId }));
      } catch (error) {
        // Nothing left to cancel: SSM no longer knows the command (its history is kept 30 days).
        if ((error as { name?: string }).name === 'InvalidCommandId') return;
        throw classify(error, {}, (n) => `SSM ${n} cancelling command ${commandId}`);
      }
    });
  }

  async managedNodesTagged(
    target: TargetTag,
    options: { atMost?: number } = {},
  ): Promise<ManagedNode[]> {
    // A tag filter cannot be combined with any other filter (SSM API reference).
    return this.#describeNodes(
      [{ Key: `tag:${target.key}`, Values: [target.value] }],
      options.atMost,
    );
  }

  async #describeNodes(
    filters: { Key: string; Values: string[] }[],
    atMost = Number.POSITIVE_INFINITY,
  ): Promise<ManagedNode[]> {
    const nodes: ManagedNode[] = [];
    let nextToken: string | undefined;
    do {
      const out = await withRetry(async () => {
        try {
          return await this.#ssm.send(
            new DescribeInstanceInformationCommand({
              Filters: filters,
              MaxResults: 50,
              NextToken: nextToken,
            }),
          );
        } catch (error) {
          throw classify(error, {}, (n) => `SSM ${n} describing managed nodes`);
        }
      });
      for (const info of out.InstanceInformationList ?? []) {
        if (info.InstanceId === undefined) continue;
        nodes.push({
          instanceId: info.InstanceId,
          pingStatus: info.PingStatus ?? 'Unknown',
          ...(info.AgentVersion === undefined ? {} : { agentVersion: info.AgentVersion }),
        });
      }
      nextToken = out.NextToken;
    } while (nextToken !== undefined && nodes.length < atMost);
    return nodes;
  }
}

function toResult(inv: CommandInvocation): InvocationResult {
  const plugin = inv.CommandPlugins?.[0];
  const code = plugin?.ResponseCode;
  const output = plugin?.Output;
  return {
    instanceId: inv.InstanceId ?? 'unknown',
    status: inv.Status ?? 'Pending',
    statusDetails: inv.StatusDetails ?? inv.Status ?? 'Pending',
    ...(code === undefined || code === -1 ? {} : { responseCode: code }),
    ...(output === undefined ? {} : { output }),
  };
}
