/** A message attribute's value: SNS's String, Number and String.Array types. */
export type NotificationAttribute = string | number | readonly string[];

/** One message for the people running the service. Holds no secret. */
export interface Notification {
  /** One line, ASCII, fewer than 100 characters (SNS refuses anything else). */
  readonly subject: string;
  /** Plain text, for e-mail as much as for programs. */
  readonly message: string;
  /** What subscribers filter on (SNS filter policies); at most 10, none empty. */
  readonly attributes: Readonly<Record<string, NotificationAttribute>>;
}

/**
 * Where notifications go (the stack's SNS topic). `publish` resolves once the message was
 * accepted; a TerminalError means it never will be (no such topic, no permission), anything else
 * thrown is retryable (throttling, an outage).
 */
export interface Notifier {
  publish(notification: Notification): Promise<void>;
}
