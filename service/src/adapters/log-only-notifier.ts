import type { Logger } from 'pino';
import type { Notification, Notifier } from '../ports/notifier.ts';

/**
 * Without a topic (NOTIFY_TOPIC_ARN unset: local runs, a service started by hand), each
 * notification is one warning line with its subject, attributes and text, and goes nowhere else.
 */
export class LogOnlyNotifier implements Notifier {
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  async publish(n: Notification): Promise<void> {
    this.#logger.warn(
      { notification: { subject: n.subject, attributes: n.attributes, message: n.message } },
      `notification (logged only, no NOTIFY_TOPIC_ARN): ${n.subject}`,
    );
  }
}
