/** The wire shapes of commands and invocations, as ListCommands & co. return them. */
import {
  type CommandState,
  commandStatus,
  counters,
  type InvocationState,
  type PluginState,
} from './command-state.ts';
import { epochSeconds } from './wire.ts';

/** Limits AWS applies to output returned by the API (the rest goes to S3 when configured). */
export const outputLimits = { standardOutput: 24_000, standardError: 8_000, pluginOutput: 2_500 };

const emptyNotification = { NotificationArn: '', NotificationEvents: [], NotificationType: '' };
const noCloudWatch = { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false };

export function commandView(command: CommandState, region: string, now: number) {
  const { status, statusDetails } = commandStatus(command, now);
  const count = counters(command);
  return {
    CommandId: command.commandId,
    DocumentName: command.documentName,
    DocumentVersion: command.documentVersion,
    Comment: command.comment,
    ExpiresAfter: epochSeconds(
      new Date(command.requestedAt.getTime() + command.timeoutSeconds * 1000),
    ),
    Parameters: command.parameters,
    InstanceIds: command.instanceIds,
    Targets: command.targets,
    RequestedDateTime: epochSeconds(command.requestedAt),
    Status: status,
    StatusDetails: statusDetails,
    OutputS3Region: region,
    OutputS3BucketName: '',
    OutputS3KeyPrefix: '',
    MaxConcurrency: command.maxConcurrency,
    MaxErrors: command.maxErrors,
    TargetCount: count.targetCount,
    CompletedCount: count.completedCount,
    ErrorCount: count.errorCount,
    DeliveryTimedOutCount: count.deliveryTimedOutCount,
    ServiceRole: '',
    NotificationConfig: emptyNotification,
    CloudWatchOutputConfig: noCloudWatch,
    TimeoutSeconds: command.timeoutSeconds,
    TriggeredAlarms: [],
  };
}

/** Plugin output as AWS shows it: stdout, then stderr after its separator, cut to 2,500. */
function pluginOutput(plugin: PluginState): string {
  const text =
    plugin.stderr === ''
      ? plugin.stdout
      : `${plugin.stdout}\n----------ERROR-------\n${plugin.stderr}`;
  return text.slice(0, outputLimits.pluginOutput);
}

function pluginView(plugin: PluginState, region: string) {
  return {
    Name: plugin.name,
    Status: plugin.status,
    StatusDetails: plugin.statusDetails,
    ResponseCode: plugin.responseCode,
    ...(plugin.startedAt === undefined
      ? {}
      : { ResponseStartDateTime: epochSeconds(plugin.startedAt) }),
    ...(plugin.finishedAt === undefined
      ? {}
      : { ResponseFinishDateTime: epochSeconds(plugin.finishedAt) }),
    Output: pluginOutput(plugin),
    StandardOutputUrl: '',
    StandardErrorUrl: '',
    OutputS3Region: region,
    OutputS3BucketName: '',
    OutputS3KeyPrefix: '',
  };
}

export function invocationView(
  command: CommandState,
  invocation: InvocationState,
  details: boolean,
  region: string,
) {
  return {
    CommandId: command.commandId,
    InstanceId: invocation.instanceId,
    InstanceName: invocation.instanceName,
    Comment: command.comment,
    DocumentName: command.documentName,
    DocumentVersion: command.documentVersion,
    RequestedDateTime: epochSeconds(command.requestedAt),
    Status: invocation.status,
    StatusDetails: invocation.statusDetails,
    TraceOutput: '',
    StandardOutputUrl: '',
    StandardErrorUrl: '',
    CommandPlugins: details ? invocation.plugins.map((p) => pluginView(p, region)) : [],
    ServiceRole: '',
    NotificationConfig: emptyNotification,
    CloudWatchOutputConfig: noCloudWatch,
  };
}

/** GetCommandInvocation's timestamps are strings, unlike every other timestamp of the API. */
function isoOrEmpty(date: Date | undefined): string {
  return date === undefined ? '' : date.toISOString();
}

function elapsed(plugin: PluginState): string {
  if (plugin.startedAt === undefined) return '';
  const end = plugin.finishedAt ?? new Date();
  return `PT${((end.getTime() - plugin.startedAt.getTime()) / 1000).toFixed(3)}S`;
}

export function getInvocationView(
  command: CommandState,
  invocation: InvocationState,
  plugin: PluginState,
) {
  return {
    CommandId: command.commandId,
    InstanceId: invocation.instanceId,
    Comment: command.comment,
    DocumentName: command.documentName,
    DocumentVersion: command.documentVersion,
    PluginName: plugin.name,
    ResponseCode: plugin.responseCode,
    ExecutionStartDateTime: isoOrEmpty(plugin.startedAt),
    ExecutionElapsedTime: elapsed(plugin),
    ExecutionEndDateTime: isoOrEmpty(plugin.finishedAt),
    Status: plugin.status,
    StatusDetails: plugin.statusDetails,
    StandardOutputContent: plugin.stdout.slice(0, outputLimits.standardOutput),
    StandardOutputUrl: '',
    StandardErrorContent: plugin.stderr.slice(0, outputLimits.standardError),
    StandardErrorUrl: '',
    CloudWatchOutputConfig: noCloudWatch,
  };
}
