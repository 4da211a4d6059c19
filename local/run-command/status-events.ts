/**
 * Run Command's status-change events, as AWS sends them to EventBridge: when a command reaches a
 * terminal status, the stand-in puts an `EC2 Command Status-change Notification` (source
 * `aws.ssm`) on moto's default event bus, where the rules the stack (and local/provision.ts)
 * creates route it — the service's rule sends the terminal ones of its document to the job queue.
 *
 * Shape: "Amazon EventBridge event examples for Systems Manager", Run Command events
 * (`detail`: command-id, document-name, expire-after, parameters, requested-date-time, status).
 * AWS also sends one per status change on the way (Pending → InProgress); the stand-in sends the
 * terminal one only, which is all the service's rule lets through. EventBridge delivers service
 * events after a short delay, and at least once: `eventDelayMs` stands for the delay.
 */
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type CommandState, commandStatus } from './command-state.ts';
import { wait } from './script-process.ts';

export const commandStatusChange = 'EC2 Command Status-change Notification';

const terminalStatuses: ReadonlySet<string> = new Set([
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled',
]);

/** The emulated account (moto's default). */
const account = '123456789012';

/** The event for `command` having reached `status`. */
export function commandStatusEvent(
  command: CommandState,
  status: string,
  region: string,
): PutEventsRequestEntry {
  return {
    Source: 'aws.ssm',
    DetailType: commandStatusChange,
    Resources: command.invocations.map(
      (i) =>
        `arn:aws:${i.instanceId.startsWith('mi-') ? 'ssm' : 'ec2'}:${region}:${account}:${i.instanceId.startsWith('mi-') ? 'managed-instance' : 'instance'}/${i.instanceId}`,
    ),
    Detail: JSON.stringify({
      'command-id': command.commandId,
      'document-name': command.documentName,
      'expire-after': new Date(
        command.requestedAt.getTime() + command.timeoutSeconds * 1000,
      ).toISOString(),
      parameters: command.parameters,
      'requested-date-time': command.requestedAt.toISOString(),
      status,
    }),
  };
}

export interface StatusEventContext {
  readonly events: EventBridgeClient;
  readonly region: string;
  readonly eventDelayMs: number;
  readonly shutdown: AbortSignal;
  readonly log: (line: string) => void;
}

/**
 * Once every invocation of the command ended (`done`), waits for its status to read terminal (a
 * command that matched no server settles a moment later) and the delivery delay, then puts the
 * event. Never throws: an event that cannot be put is logged, as AWS's are best effort.
 */
export async function emitWhenEnded(
  command: CommandState,
  done: Promise<void>,
  context: StatusEventContext,
): Promise<void> {
  await done;
  const giveUpAt = Date.now() + 60_000;
  let status = commandStatus(command, Date.now()).status;
  while (!terminalStatuses.has(status)) {
    if (Date.now() > giveUpAt || (await wait(50, context.shutdown)) === 'aborted') return;
    status = commandStatus(command, Date.now()).status;
  }
  if ((await wait(context.eventDelayMs, context.shutdown)) === 'aborted') return;
  try {
    const out = await context.events.send(
      new PutEventsCommand({ Entries: [commandStatusEvent(command, status, context.region)] }),
    );
    if ((out.FailedEntryCount ?? 0) > 0) {
      context.log(`status event of ${command.commandId} refused: ${JSON.stringify(out.Entries)}`);
    }
  } catch (error) {
    context.log(`status event of ${command.commandId} not sent: ${String(error)}`);
  }
}
