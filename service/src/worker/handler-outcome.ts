/** What the SQS glue does with a message after a handler ran. */
export type HandlerOutcome =
  /** Done (or nothing to do): delete the message. */
  | { readonly kind: 'ack' }
  /**
   * Not done: keep the message in flight and look again after the delay. With `watch`, the job
   * waits for a running command: a worker with a command watcher follows it there instead
   * (worker/command-watcher.ts), freeing the consumer; the delay is for one without.
   */
  | {
      readonly kind: 'later';
      readonly delaySeconds: number;
      readonly why: string;
      readonly watch?: CommandWait;
    }
  /** Cannot ever be processed: move it to the dead-letter queue with the reason. */
  | { readonly kind: 'dead-letter'; readonly reason: string };

/** A job waiting for its running command. */
export interface CommandWait {
  readonly commandId: string;
  readonly jobId: string;
  /** When the job gives up on the command (its timeout), epoch ms. */
  readonly deadline: number;
  /** When to look first, epoch ms. */
  readonly firstLookAt: number;
  /** When the command was sent, epoch ms. */
  readonly sentAt: number;
  /** How far the command got as the record shows it (worker/remembered-progress.ts). */
  readonly progress?: string;
}

export const ack: HandlerOutcome = { kind: 'ack' };

export function later(delaySeconds: number, why: string, watch?: CommandWait): HandlerOutcome {
  return {
    kind: 'later',
    delaySeconds: Math.max(0, Math.min(43_200, Math.round(delaySeconds))),
    why,
    ...(watch === undefined ? {} : { watch }),
  };
}

export function deadLetter(reason: string): HandlerOutcome {
  return { kind: 'dead-letter', reason };
}

/** The SQS message as a handler sees it. */
export interface MessageContext {
  readonly messageId: string;
  /** ApproximateReceiveCount: every receive counts, polling ones included. */
  readonly receiveCount: number;
  readonly body: string;
  /** Aborted when the process is stopping: long waits end early and hand the message back. */
  readonly signal: AbortSignal;
}
