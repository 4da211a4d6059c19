import type { TargetTag } from '../domain/target.ts';

export interface SendCommandInput {
  readonly documentName: string;
  readonly documentVersion?: string;
  readonly target: TargetTag;
  /** Only these servers (they carry the target tag); every server with the tag when absent. */
  readonly instanceIds?: readonly string[];
  /** Document parameters. Never a plaintext secret: SSM keeps them in command history. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Carries the job id, so a resumed job can find a command it sent before a crash. */
  readonly comment: string;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  readonly timeoutSeconds: number;
}

export interface InvocationResult {
  readonly instanceId: string;
  readonly status: string;
  readonly statusDetails: string;
  readonly responseCode?: number;
  readonly output?: string;
  readonly error?: string;
}

export interface CommandProgress {
  readonly commandId: string;
  /** Pending, InProgress, Success, Cancelled, Failed, TimedOut, Cancelling. */
  readonly status: string;
  readonly statusDetails: string;
  readonly targetCount: number;
  readonly completedCount: number;
  readonly errorCount: number;
  /**
   * Each server's result, listed once the command has ended (or when asked for): while it runs,
   * the counts say how far it got at one request, whatever the number of servers. Empty right
   * after SendCommand (eventual consistency): that means "not yet".
   */
  readonly invocations: readonly InvocationResult[];
}

/** A managed node as Systems Manager sees it (DescribeInstanceInformation). */
export interface ManagedNode {
  readonly instanceId: string;
  /** Online, ConnectionLost, Inactive. */
  readonly pingStatus: string;
  readonly agentVersion?: string;
}

export interface ProgressOptions {
  /** List the invocations even while the command runs. */
  readonly invocations?: boolean;
  /**
   * The command's terminal status as Run Command's status-change event gave it: only the
   * invocations are listed (the counts follow from them), no ListCommands. A command with no
   * invocation listed yet is looked at in full (No Instances In Tag, or not visible yet).
   */
  readonly endedAs?: string;
}

/** SSM Run Command. Errors: TerminalError for invalid document/parameters/access denied. */
export interface CommandRunner {
  /**
   * Sends the command at most once: a failure after which Run Command may have taken it (its
   * answer lost) is thrown, retryable, once the command was looked for and not found; the
   * caller looks for it again (`findByComment`) before any other send.
   */
  send(input: SendCommandInput): Promise<{ commandId: string }>;
  /** A command of this document sent at or after `invokedAfter` with exactly this comment. */
  findByComment(
    documentName: string,
    comment: string,
    invokedAfter: Date,
  ): Promise<string | undefined>;
  /**
   * The command's status and counts; its invocations when it has ended, or always with
   * `{ invocations: true }` (a job ending before its command does records where each server got).
   */
  progress(commandId: string, options?: ProgressOptions): Promise<CommandProgress>;
  /**
   * The managed nodes among these instance ids (at most 50). A server whose SSM agent has not
   * registered yet (it started a moment ago) is missing from the answer.
   */
  managedNodes(instanceIds: readonly string[]): Promise<ManagedNode[]>;
  /**
   * Every managed node (EC2 instances and on-premises `mi-` nodes) carrying the tag, as Run
   * Command's tag target would reach them, with its agent's status and version. With `atMost`,
   * listing may stop once that many were found (a count that only needs to reach a number).
   */
  managedNodesTagged(target: TargetTag, options?: { atMost?: number }): Promise<ManagedNode[]>;
  /**
   * Asks Run Command to stop the command on every server where it has not ended (CancelCommand).
   * A command that has already ended, or that SSM no longer knows, is nothing to cancel.
   */
  cancel(commandId: string): Promise<void>;
}
