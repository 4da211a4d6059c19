/**
 * How fast the stand-in moves. The defaults imitate AWS closely enough for the worker to meet
 * the same situations (an empty invocation list right after SendCommand, Pending before
 * InProgress); tests shorten the slow parts.
 */
export interface RunCommandTiming {
  /** After SendCommand, ListCommandInvocations is empty and GetCommandInvocation answers
   * InvocationDoesNotExist for this long (AWS is eventually consistent, aws-cli #3546). */
  invisibleMs: number;
  /**
   * After SendCommand, ListCommands without a CommandId leaves the command out this long: a
   * command whose answer was lost (its connection cut while Run Command was still taking it)
   * can be listed later than the caller looks. 0 in the defaults; tests of lost answers set it.
   */
  listedAfterMs: number;
  /** Pending → InProgress: how long delivery to the agent takes. */
  deliveryMs: number;
  /** A command whose targets matched nothing stays Pending this long before it settles. */
  noInstancesSettleMs: number;
  /** Tag `standin:behaviour=slow`: how long the server waits before running the script. */
  slowMs: number;
  /** Cancel and timeouts send SIGTERM to the script's process group, then SIGKILL after this. */
  killGraceMs: number;
  /**
   * How long after an instance's LaunchTime its SSM Agent registers (the tag
   * `standin:agent-registers-after-ms` overrides it per instance). Until then the instance is
   * not a managed node: SendCommand by InstanceIds answers InvalidInstanceId, tag targets skip
   * it, DescribeInstanceInformation does not list it. On AWS this is often more than a minute.
   */
  agentRegistrationMs: number;
  /** Tag `standin:reload=slow`: how long the server's recorded reload command runs. */
  slowReloadMs: number;
  /**
   * From a command's terminal status to its `EC2 Command Status-change Notification` on the event
   * bus (EventBridge delivers service events after a short delay).
   */
  eventDelayMs: number;
  /** Overrides the document step's timeoutSeconds (execution timeout) when set. */
  executionTimeoutMs?: number;
  /** Overrides SendCommand's TimeoutSeconds (delivery timeout) when set. */
  deliveryTimeoutMs?: number;
}

export const defaultTiming: RunCommandTiming = {
  invisibleMs: 300,
  listedAfterMs: 0,
  deliveryMs: 100,
  noInstancesSettleMs: 300,
  slowMs: 3000,
  killGraceMs: 2000,
  // 0: agents register at once. The local run, the benchmarks and most tests start servers and
  // deploy to them straight away, and would otherwise wait a minute for nothing they test; the
  // tests of the registration gap ask for it (this option, the tag, and a clock they move).
  agentRegistrationMs: 0,
  // Long enough that a test can cancel or stop a reload while it runs, even on a loaded machine.
  slowReloadMs: 60_000,
  eventDelayMs: 500,
};
