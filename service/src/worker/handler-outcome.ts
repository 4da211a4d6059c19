/** What the SQS glue does with a message after a handler ran. */
export type HandlerOutcome =
  /** Done (or nothing to do): delete the message. */
  | { readonly kind: 'ack' }
  /** Not done: keep the message in flight and look again after the delay. */
  | { readonly kind: 'later'; readonly delaySeconds: number; readonly why: string }
  /** Cannot ever be processed: move it to the dead-letter queue with the reason. */
  | { readonly kind: 'dead-letter'; readonly reason: string };

export const ack: HandlerOutcome = { kind: 'ack' };

export function later(delaySeconds: number, why: string): HandlerOutcome {
  return {
    kind: 'later',
    delaySeconds: Math.max(0, Math.min(43_200, Math.round(delaySeconds))),
    why,
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
