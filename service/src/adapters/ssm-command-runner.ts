import {
  CancelCommandCommand,
  type Command,
  type CommandInvocation,
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { TerminalError } from '../domain/errors.ts';
import type { TargetTag } from '../domain/target.ts';
import type {
  CommandProgress,
  CommandRunner,
  InvocationResult,
  ManagedNode,
  ProgressOptions,
  SendCommandInput,
} from '../ports/command-runner.ts';
import { classify, withRetry } from './aws-errors.ts';

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

/** SSM Run Command through the SDK (AWS, or the local stand-in through its endpoint). */
export class SsmCommandRunner implements CommandRunner {
  readonly #ssm: SSMClient;

  constructor(ssm: SSMClient) {
    this.#ssm = ssm;
  }

  async send(input: SendCommandInput): Promise<{ commandId: string }> {
    const out = await withRetry(async () => {
      try {
        return await this.#ssm.send(
          new SendCommandCommand({
            DocumentName: input.documentName,
            ...(input.documentVersion === undefined
              ? {}
              : { DocumentVersion: input.documentVersion }),
            ...(input.instanceIds === undefined
              ? { Targets: [{ Key: `tag:${input.target.key}`, Values: [input.target.value] }] }
              : { InstanceIds: [...input.instanceIds] }),
            Parameters: Object.fromEntries(
              Object.entries(input.parameters).map(([k, v]) => [k, [v]]),
            ),
            Comment: input.comment,
            MaxConcurrency: input.maxConcurrency,
            MaxErrors: input.maxErrors,
            TimeoutSeconds: input.timeoutSeconds,
          }),
        );
      } catch (error) {
        throw classify(error, terminal, (name) => `SSM ${name} sending ${input.documentName}`);
      }
    });
    const commandId = out.Command?.CommandId;
    if (commandId === undefined) throw new Error('SendCommand returned no command id');
    return { commandId };
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
