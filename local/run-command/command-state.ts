/**
 * The in-memory state of commands and their invocations, and the command status derived from
 * the invocations the way Run Command derives it.
 */
import type { Behaviour, ReloadBehaviour } from './managed-nodes.ts';
import type { Target } from './targets.ts';

/** CommandInvocationStatus / CommandPluginStatus of the SSM API. */
export type InvocationStatus =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'Cancelled'
  | 'TimedOut'
  | 'Failed'
  | 'Cancelling';

/** CommandStatus of the SSM API. */
export type CommandStatus =
  | 'Pending'
  | 'InProgress'
  | 'Success'
  | 'Cancelled'
  | 'Failed'
  | 'TimedOut'
  | 'Cancelling';

export interface PluginState {
  readonly name: string;
  status: InvocationStatus;
  statusDetails: string;
  /** The script's exit code; -1 while it has none (not run, killed). */
  responseCode: number;
  startedAt?: Date;
  finishedAt?: Date;
  stdout: string;
  stderr: string;
}

export interface InvocationState {
  readonly commandId: string;
  readonly instanceId: string;
  readonly instanceName: string;
  readonly behaviour: Behaviour;
  /** The server's SSM Agent version: older agents pass no `SSM_*` parameter variables. */
  readonly agentVersion: string;
  /** What the server's allowed reload commands do (tag `standin:reload`). */
  readonly reload: ReloadBehaviour;
  /** Tag `standin:run-ms`: how long an `instant` server takes to answer. */
  readonly runMs: number;
  /** Tag `standin:container`: the container the script runs in (none: on this machine). */
  readonly container?: string;
  status: InvocationStatus;
  statusDetails: string;
  readonly plugins: PluginState[];
}

export interface CommandState {
  readonly commandId: string;
  readonly documentName: string;
  readonly documentVersion: string;
  readonly comment: string;
  /** The parameters as sent (AWS keeps and returns them for the command's lifetime). */
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly instanceIds: readonly string[];
  readonly targets: readonly Target[];
  readonly requestedAt: Date;
  readonly timeoutSeconds: number;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  /** Errors tolerated before no further invocation is sent (MaxErrors resolved). */
  readonly errorBudget: number;
  readonly invocations: InvocationState[];
  /** Invocations stay invisible to ListCommandInvocations / GetCommandInvocation until then. */
  readonly visibleAt: number;
  /** A command without targets settles as No Instances In Tag at this time. */
  readonly settlesAt: number;
  cancelRequested: boolean;
}

const terminal: ReadonlySet<InvocationStatus> = new Set([
  'Success',
  'Cancelled',
  'TimedOut',
  'Failed',
]);

export function isTerminal(status: InvocationStatus): boolean {
  return terminal.has(status);
}

/** Failed and Execution Timed Out count against MaxErrors; delivery timeouts do not. */
export function isError(invocation: InvocationState): boolean {
  return (
    invocation.status === 'Failed' ||
    (invocation.status === 'TimedOut' && invocation.statusDetails === 'ExecutionTimedOut')
  );
}

export function setInvocationStatus(
  invocation: InvocationState,
  status: InvocationStatus,
  details: string,
  now: Date,
): void {
  invocation.status = status;
  invocation.statusDetails = details;
  for (const plugin of invocation.plugins) {
    if (isTerminal(plugin.status)) continue;
    plugin.status = status;
    plugin.statusDetails = details;
    if (isTerminal(status)) plugin.finishedAt = now;
  }
}

export interface CommandCounters {
  targetCount: number;
  completedCount: number;
  errorCount: number;
  deliveryTimedOutCount: number;
}

export function counters(command: CommandState): CommandCounters {
  const invocations = command.invocations;
  return {
    targetCount: invocations.length,
    completedCount: invocations.filter((i) => isTerminal(i.status)).length,
    errorCount: invocations.filter(isError).length,
    deliveryTimedOutCount: invocations.filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
  };
}

/**
 * The command's Status and StatusDetails at `now`.
 *
 * Sources: "Understanding command statuses" in the Systems Manager user guide (awsdocs
 * aws-systems-manager-user-guide, monitor-commands.md) for the meaning of each status, and
 * recorded AWS behaviour for the wire values: a SendCommand whose tag matches nothing answers
 * `Status: Pending, StatusDetails: Pending, TargetCount: 0`, and ListCommands later shows
 * `Status: Success, StatusDetails: NoInstancesInTag` (the guide's "No Instances In Tag", a
 * terminal state; the same `Success (NoInstancesInTag) [0 total]` is printed by the
 * aws-ssm-invoke tool's README). StatusDetails on the wire have no spaces
 * (`DeliveryTimedOut`, `ExecutionTimedOut`), the values the ListCommands Status filter takes.
 * Not verified against AWS: the status of a command that ends with errors within MaxErrors
 * and at least one success (taken as Success), and `Terminated` for invocations that were
 * never sent because MaxErrors was exceeded.
 */
export function commandStatus(
  command: CommandState,
  now: number,
): { status: CommandStatus; statusDetails: string } {
  const invocations = command.invocations;
  if (invocations.length === 0) {
    return now >= command.settlesAt
      ? { status: 'Success', statusDetails: 'NoInstancesInTag' }
      : { status: 'Pending', statusDetails: 'Pending' };
  }
  if (invocations.some((i) => i.status === 'Cancelling')) {
    return { status: 'Cancelling', statusDetails: 'Cancelling' };
  }
  const open = invocations.filter((i) => !isTerminal(i.status));
  if (open.length > 0) {
    return open.length === invocations.length && open.every((i) => i.status === 'Pending')
      ? { status: 'Pending', statusDetails: 'Pending' }
      : { status: 'InProgress', statusDetails: 'InProgress' };
  }
  if (command.cancelRequested && invocations.some((i) => i.status === 'Cancelled')) {
    return { status: 'Cancelled', statusDetails: 'Cancelled' };
  }
  const errors = invocations.filter(isError);
  if (errors.length > command.errorBudget) {
    return errors.some((i) => i.status === 'Failed')
      ? { status: 'Failed', statusDetails: 'Failed' }
      : { status: 'TimedOut', statusDetails: 'ExecutionTimedOut' };
  }
  if (invocations.some((i) => i.status === 'Success')) {
    return { status: 'Success', statusDetails: 'Success' };
  }
  if (invocations.every((i) => i.statusDetails === 'DeliveryTimedOut')) {
    return { status: 'TimedOut', statusDetails: 'DeliveryTimedOut' };
  }
  return { status: 'Failed', statusDetails: 'Incomplete' };
}

/** Commands by id, newest first when listed. */
export class CommandStore {
  readonly #commands = new Map<string, CommandState>();

  add(command: CommandState): void {
    this.#commands.set(command.commandId, command);
  }

  get(commandId: string): CommandState | undefined {
    return this.#commands.get(commandId);
  }

  list(): CommandState[] {
    return [...this.#commands.values()].reverse();
  }
}
