/**
 * The Run Command operations the stand-in answers itself: SendCommand, ListCommands,
 * ListCommandInvocations, GetCommandInvocation and CancelCommand (and, from
 * instance-information.ts, DescribeInstanceInformation; from hybrid-operations.ts, the
 * operations of hybrid `mi-…` nodes: activations, the agent's registration, deregistration and
 * the ManagedInstance tags).
 */
import { randomUUID } from 'node:crypto';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type CommandRunnerContext, type RunningCommand, startCommand } from './command-runner.ts';
import {
  type CommandState,
  type CommandStore,
  commandStatus,
  type InvocationState,
  isTerminal,
} from './command-state.ts';
import { commandView, getInvocationView, invocationView } from './command-views.ts';
import { loadCommandDocument } from './document.ts';
import type { HybridFleet } from './hybrid-nodes.ts';
import { hybridOperations } from './hybrid-operations.ts';
import { describeInstanceInformation } from './instance-information.ts';
import { page } from './paging.ts';
import { resolveParameters } from './parameters.ts';
import { checkMaxConcurrency, checkMaxErrors, errorBudget } from './rate-control.ts';
import { emitWhenEnded } from './status-events.ts';
import { resolveInstanceIds, resolveTagTargets, type Target } from './targets.ts';
import {
  optionalNumber,
  optionalString,
  optionalStringList,
  requiredString,
  SsmApiError,
} from './wire.ts';

export interface OperationContext extends CommandRunnerContext {
  readonly store: CommandStore;
  readonly running: Map<string, RunningCommand>;
  /** Clients pointed at moto. */
  readonly ssm: SSMClient;
  readonly ec2: EC2Client;
  /** Where CreateActivation finds the activation's role. */
  readonly iam: IAMClient;
  /** moto's EventBridge: Run Command's status-change events go to its default bus. */
  readonly events: EventBridgeClient;
  /** Activations and the hybrid (`mi-…`) nodes registered with them. */
  readonly hybrid: HybridFleet;
  /** Now, epoch ms: when agents register (tests move it forward instead of waiting). */
  readonly now: () => number;
}

type Input = Record<string, unknown>;
/** An answer, or `forwardToEmulator` (wire.ts) to let moto answer the request after all. */
export type Operation = (input: Input, context: OperationContext) => Promise<unknown>;

function readParameters(input: Input): Record<string, string[]> {
  const value = input.Parameters;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SsmApiError('ValidationException', 'Parameters must be a map of string lists');
  }
  const parameters: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(value)) {
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
      throw new SsmApiError('ValidationException', `Parameters.${name} must be a list of strings`);
    }
    parameters[name] = values as string[];
  }
  return parameters;
}

function readTargets(input: Input): Target[] | undefined {
  const value = input.Targets;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new SsmApiError('ValidationException', 'Targets must be a list');
  return value.map((target: unknown) => {
    const t = target as { Key?: unknown; Values?: unknown };
    if (
      typeof t?.Key !== 'string' ||
      !Array.isArray(t.Values) ||
      t.Values.some((v) => typeof v !== 'string')
    ) {
      throw new SsmApiError('ValidationException', 'Each target needs a Key and a list of Values');
    }
    return { Key: t.Key, Values: t.Values as string[] };
  });
}

function commandOf(context: OperationContext, commandId: string | undefined): CommandState {
  const command = commandId === undefined ? undefined : context.store.get(commandId);
  if (command === undefined) throw new SsmApiError('InvalidCommandId', 'Invalid command id');
  return command;
}

/** ListCommands and ListCommandInvocations: MaxResults 1 to 50, default 50. */
const listBounds = { min: 1, max: 50, default: 50 };

interface Filter {
  key: string;
  value: string;
}

function readFilters(input: Input): Filter[] {
  const value = input.Filters;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new SsmApiError('ValidationException', 'Filters must be a list');
  return value.map((f: unknown) => {
    const { key, value: v } = (f ?? {}) as { key?: unknown; value?: unknown };
    if (typeof key !== 'string' || typeof v !== 'string') {
      throw new SsmApiError('InvalidFilterKey', 'Each filter needs a key and a value');
    }
    return { key, value: v };
  });
}

function matchesFilters(
  filters: Filter[],
  status: string,
  statusDetails: string,
  requestedAt: Date,
  documentName: string,
): boolean {
  return filters.every(({ key, value }) => {
    switch (key) {
      case 'Status':
        return (
          value === status ||
          value === statusDetails ||
          (value === 'TimedOut' && status === 'TimedOut')
        );
      case 'DocumentName':
        return value === documentName;
      case 'InvokedAfter':
        return requestedAt.getTime() >= Date.parse(value);
      case 'InvokedBefore':
        return requestedAt.getTime() <= Date.parse(value);
      case 'ExecutionStage':
        return value === 'Complete'
          ? ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(status)
          : !['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(status);
      default:
        throw new SsmApiError('InvalidFilterKey', `Unsupported filter key ${key}`);
    }
  });
}

const sendCommand: Operation = async (input, context) => {
  const documentName = requiredString(input, 'DocumentName');
  const documentVersion = optionalString(input, 'DocumentVersion');
  const instanceIds = optionalStringList(input, 'InstanceIds');
  const targets = readTargets(input);
  const comment = optionalString(input, 'Comment') ?? '';
  if (comment.length > 100) {
    throw new SsmApiError('ValidationException', 'Comment must be at most 100 characters');
  }
  const timeoutSeconds = optionalNumber(input, 'TimeoutSeconds') ?? 3600;
  if (timeoutSeconds < 30 || timeoutSeconds > 2_592_000) {
    throw new SsmApiError('ValidationException', 'TimeoutSeconds must be from 30 to 2592000');
  }
  const hasIds = instanceIds !== undefined && instanceIds.length > 0;
  const hasTargets = targets !== undefined && targets.length > 0;
  if (hasIds === hasTargets) {
    throw new SsmApiError('ValidationException', 'Specify either InstanceIds or Targets');
  }
  const maxConcurrency = checkMaxConcurrency(optionalString(input, 'MaxConcurrency'));
  const maxErrors = checkMaxErrors(optionalString(input, 'MaxErrors'));
  const sent = readParameters(input);

  const document = await loadCommandDocument(context.ssm, documentName, documentVersion);
  const values = resolveParameters(document, sent);
  const registration = { now: context.now(), registrationMs: context.timing.agentRegistrationMs };
  const instances = hasIds
    ? await resolveInstanceIds(context.ec2, instanceIds, registration, context.hybrid)
    : await resolveTagTargets(context.ec2, targets ?? [], registration, context.hybrid);

  const commandId = randomUUID();
  const requestedAt = new Date();
  const invocations: InvocationState[] = instances.map((instance) => ({
    commandId,
    instanceId: instance.instanceId,
    instanceName: instance.instanceName,
    behaviour: instance.behaviour,
    agentVersion: instance.agentVersion,
    reload: instance.reload,
    runMs: instance.runMs,
    ...(instance.container === undefined ? {} : { container: instance.container }),
    status: 'Pending',
    statusDetails: 'Pending',
    plugins: document.steps.map((step) => ({
      name: step.name,
      status: 'Pending',
      statusDetails: 'Pending',
      responseCode: -1,
      stdout: '',
      stderr: '',
    })),
  }));
  const command: CommandState = {
    commandId,
    documentName,
    documentVersion: documentVersion ?? '$DEFAULT',
    comment,
    parameters: sent,
    instanceIds: hasIds ? instanceIds : [],
    targets: targets ?? [],
    requestedAt,
    timeoutSeconds,
    maxConcurrency,
    maxErrors,
    errorBudget: errorBudget(maxErrors, invocations.length),
    invocations,
    visibleAt: requestedAt.getTime() + context.timing.invisibleMs,
    settlesAt: requestedAt.getTime() + context.timing.noInstancesSettleMs,
    cancelRequested: false,
  };
  context.store.add(command);
  const running = startCommand(command, document, values, context);
  context.running.set(commandId, running);
  void running.done.then(() => context.running.delete(commandId));
  void emitWhenEnded(command, running.done, {
    events: context.events,
    region: context.region,
    eventDelayMs: context.timing.eventDelayMs,
    shutdown: context.shutdown,
    log: context.log,
  });
  context.log(
    `SendCommand ${commandId}: ${documentName} on ${instances.map((i) => i.instanceId).join(', ') || 'no instance'}`,
  );
  return { Command: commandView(command, context.region, Date.now()) };
};

const listCommands: Operation = async (input, context) => {
  const commandId = optionalString(input, 'CommandId');
  const instanceId = optionalString(input, 'InstanceId');
  const filters = readFilters(input);
  const now = Date.now();
  const commands =
    commandId === undefined
      ? context.store
          .list()
          .filter((c) => now >= c.requestedAt.getTime() + context.timing.listedAfterMs)
      : [commandOf(context, commandId)];
  const matching = commands.filter((command) => {
    if (instanceId !== undefined && !command.invocations.some((i) => i.instanceId === instanceId)) {
      return false;
    }
    const { status, statusDetails } = commandStatus(command, now);
    return matchesFilters(
      filters,
      status,
      statusDetails,
      command.requestedAt,
      command.documentName,
    );
  });
  const { slice, ...rest } = page(matching, input, listBounds);
  return { Commands: slice.map((c) => commandView(c, context.region, now)), ...rest };
};

/** Invocations AWS would show now: none until the command's invocations become visible. */
function visibleInvocations(command: CommandState, now: number): InvocationState[] {
  return now >= command.visibleAt ? command.invocations : [];
}

const listCommandInvocations: Operation = async (input, context) => {
  const commandId = optionalString(input, 'CommandId');
  const instanceId = optionalString(input, 'InstanceId');
  const details = input.Details === true;
  const filters = readFilters(input);
  const now = Date.now();
  const commands = commandId === undefined ? context.store.list() : [commandOf(context, commandId)];
  const rows = commands.flatMap((command) =>
    visibleInvocations(command, now)
      .filter((i) => instanceId === undefined || i.instanceId === instanceId)
      .filter((i) =>
        matchesFilters(
          filters,
          i.status,
          i.statusDetails,
          command.requestedAt,
          command.documentName,
        ),
      )
      .map((invocation) => ({ command, invocation })),
  );
  const { slice, ...rest } = page(rows, input, listBounds);
  return {
    CommandInvocations: slice.map(({ command, invocation }) =>
      invocationView(command, invocation, details, context.region),
    ),
    ...rest,
  };
};

const getCommandInvocation: Operation = async (input, context) => {
  const commandId = requiredString(input, 'CommandId');
  const instanceId = requiredString(input, 'InstanceId');
  const pluginName = optionalString(input, 'PluginName');
  const command = context.store.get(commandId);
  const invocation =
    command === undefined
      ? undefined
      : visibleInvocations(command, Date.now()).find((i) => i.instanceId === instanceId);
  if (command === undefined || invocation === undefined) {
    throw new SsmApiError('InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist)');
  }
  if (pluginName === undefined && invocation.plugins.length > 1) {
    throw new SsmApiError(
      'InvalidPluginName',
      'PluginName is required for documents with several steps',
    );
  }
  const plugin =
    pluginName === undefined
      ? invocation.plugins[0]
      : invocation.plugins.find((p) => p.name === pluginName);
  if (plugin === undefined) throw new SsmApiError('InvalidPluginName', 'Invalid plugin name');
  return getInvocationView(command, invocation, plugin);
};

const cancelCommand: Operation = async (input, context) => {
  const command = commandOf(context, requiredString(input, 'CommandId'));
  const instanceIds = optionalStringList(input, 'InstanceIds');
  if (command.invocations.every((i) => isTerminal(i.status))) return {};
  command.cancelRequested = true;
  context.running.get(command.commandId)?.cancel(instanceIds);
  context.log(`CancelCommand ${command.commandId}`);
  return {};
};

/** The operations the stand-in answers; every other SSM call is forwarded to moto. */
export const operations: Readonly<Record<string, Operation>> = {
  ...hybridOperations,
  DescribeInstanceInformation: describeInstanceInformation,
  SendCommand: sendCommand,
  ListCommands: listCommands,
  ListCommandInvocations: listCommandInvocations,
  GetCommandInvocation: getCommandInvocation,
  CancelCommand: cancelCommand,
};
