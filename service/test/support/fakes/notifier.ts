import type { Notification, Notifier } from '../../../src/ports/notifier.ts';

/** The notification topic: what was published, in order; `failNext` errors are thrown first. */
export class FakeNotifier implements Notifier {
  readonly published: Notification[] = [];
  failNext: unknown[] = [];

  async publish(notification: Notification) {
    const next = this.failNext.shift();
    if (next !== undefined) throw next;
    this.published.push(structuredClone(notification));
  }
}
