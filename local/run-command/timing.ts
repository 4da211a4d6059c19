/**
 * How fast the stand-in moves. The defaults imitate AWS closely enough for the worker to meet
 * the same situations (an empty invocation list right after SendCommand, Pending before
 * InProgress); tests shorten the slow parts.
 */
export interface RunCommandTiming {
  /** After SendCommand, ListCommandInvocations is empty and GetCommandInvocation answers
   * InvocationDoesNotExist for this long (AWS is eventually consistent, aws-cli #3546). */
  invisibleMs: number;
  /** Pending → InProgress: how long delivery to the agent takes. */
  deliveryMs: number;
  /** A command whose targets matched nothing stays Pending this long before it settles. */
  noInstancesSettleMs: number;
  /** Tag `standin:behaviour=slow`: how long the server waits before running the script. */
  slowMs: number;
  /** Cancel and timeouts send SIGTERM to the script's process group, then SIGKILL after this. */
  killGraceMs: number;
  /** Overrides the document step's timeoutSeconds (execution timeout) when set. */
  executionTimeoutMs?: number;
  /** Overrides SendCommand's TimeoutSeconds (delivery timeout) when set. */
  deliveryTimeoutMs?: number;
}

export const defaultTiming: RunCommandTiming = {
  invisibleMs: 300,
  deliveryMs: 100,
  noInstancesSettleMs: 300,
  slowMs: 3000,
  killGraceMs: 2000,
};
