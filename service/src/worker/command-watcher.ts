import type { Logger } from 'pino';
import type { CommandWait } from './handler-outcome.ts';

/**
 * What the watcher follows: a job waiting for its running command (as its handler said), and
 * the queue message that carries the job (`M`, opaque here: the SQS glue gives it and gets it
 * back). The job is resumed at `deadline` (its timeout) at the latest; looks space out from
 * `sentAt` as the command runs longer.
 */
export interface Watch<M> extends CommandWait {
  /** Until when the message is surely invisible to other consumers, epoch ms. */
  readonly visibleUntil: number;
  readonly message: M;
}

export interface CommandWatcherOptions<M> {
  readonly now: () => number;
  readonly logger: Logger;
  /**
   * Between two status looks at one command without an event: this at least, a quarter of the
   * command's age once that is longer, and never more than six times this.
   */
  readonly lookIntervalMs: number;
  /** Between two reads of the job's record (a cancel request) while its command runs. */
  readonly recordCheckMs: number;
  /** How far each extension of the message's visibility reaches, seconds. */
  readonly visibilitySeconds: number;
  /** Resumes (or looks, extends) at most this many at once. */
  readonly parallel: number;
  /** How often the watcher goes through its commands. */
  readonly tickMs?: number;
  /** One status look. */
  look(commandId: string): Promise<Look>;
  /**
   * The look after a status-change event that said the command ended as `status`: true when it
   * has (the event's status saves asking for the command's own).
   */
  lookEnded(commandId: string, status: string): Promise<Look>;
  /** True when the job's record asks for the job to run now (a cancel request, or it ended). */
  needsAttention(jobId: string): Promise<boolean>;
  /**
   * Runs the job again with its message (the command ended, a cancel, or its deadline); calls
   * `handled` once the job's outcome is known, before it is applied to the message.
   */
  resume(message: M, handled: () => void): Promise<void>;
  /** Keeps the message invisible for `seconds` more (ChangeMessageVisibility). */
  extend(message: M, seconds: number): Promise<void>;
  /** Hands the messages back to the queue at once (the process is stopping); never rejects. */
  handBack(messages: readonly M[]): Promise<void>;
}

/** What a look found: whether the command ended, and how far it got (compared, not read). */
export interface Look {
  readonly ended: boolean;
  readonly progress: string;
}

interface Entry<M> {
  readonly id: number;
  readonly watch: Watch<M>;
  lookAt: number;
  recordCheckAt: number;
  visibleUntil: number;
  /** A status-change event said the command ended as this: look now. */
  woken: string | undefined;
  /** Looks after an event that did not show the command ended yet (eventual consistency). */
  eventLooks: number;
  /** The events' handlers waiting for what their wake-up led to. */
  wakers: (() => void)[];
  busy: boolean;
}

/** After an event, looks again this soon while ListCommands does not show the end yet. */
const eventRetryMs = 1000;
const maxEventLooks = 3;
/**
 * Extends the message's visibility this long before it would end: 15 s, or a third of the
 * visibility timeout when that is shorter (the next extension then comes after two thirds).
 */
function extendMarginMs(visibilitySeconds: number): number {
  return Math.min(15_000, Math.floor((visibilitySeconds * 1000) / 3));
}

/**
 * The wait before the next look at a command running for `ageMs`: the interval, or a quarter of
 * its age once that is longer (a command's end is seen at most a quarter of its age late when
 * its event is lost), at most six intervals.
 */
export function nextLookInMs(ageMs: number, intervalMs: number): number {
  return Math.min(6 * intervalMs, Math.max(intervalMs, Math.round(ageMs / 4)));
}

export interface CommandWatcher<M> {
  /** Follows a job's running command; its message stays in flight, held by the watcher. */
  add(watch: Watch<M>): void;
  /**
   * Run Command's status-change event: the command ended as `status`; look at it now. Resolves
   * once the look found it running still, or the resumed job's outcome is known (so that the
   * event's message and the job's are deleted together); undefined when it is not followed here.
   */
  wake(commandId: string, status: string): Promise<void> | undefined;
  /** Commands followed now. */
  readonly size: number;
  start(): void;
  /**
   * Stops looking and hands every message back to the queue, for another worker to go on: at
   * once those not in a call, the others as soon as their call (a look, an extension) returns
   * (none is resumed any more). Resolves once that is done and the resumes in progress ended.
   */
  stop(): Promise<void>;
  /**
   * The stop's grace is over: takes the messages not handed back yet (their call still runs)
   * for the caller to hand back; the watcher forgets them.
   */
  abandon(): M[];
}

/**
 * Follows the running commands of one process without holding a consumer: a job whose command
 * was sent leaves its consumer slot and waits here, its message kept in flight (extended before
 * its visibility ends). The job is resumed — its message handled again, in the same process —
 * when Run Command's status-change event says the command ended (at once), when a status look
 * finds it ended or further than the job's record says (looks space out from `lookIntervalMs`
 * with the command's age, whether or not events arrive),
 * when its record asks for it (a cancel, read every `recordCheckMs`), or at its deadline.
 * Nothing here is needed for safety: a crash leaves the message to reappear after its
 * visibility, and any worker carries the job on from its record.
 */
export function createCommandWatcher<M>(options: CommandWatcherOptions<M>): CommandWatcher<M> {
  // By a number of their own: two messages of one job (a duplicate) can wait for one command.
  const entries = new Map<number, Entry<M>>();
  let added = 0;
  const { logger } = options;
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const working = new Set<Promise<void>>();

  function run(entry: Entry<M>, work: () => Promise<void>): void {
    entry.busy = true;
    active++;
    const done = work()
      .catch((error: unknown) => {
        logger.warn(
          { err: error, commandId: entry.watch.commandId, jobId: entry.watch.jobId },
          'following a running command failed; trying again at the next look',
        );
      })
      .finally(() => {
        entry.busy = false;
        active--;
        working.delete(done);
      });
    working.add(done);
  }

  function settle(entry: Entry<M>): void {
    for (const waker of entry.wakers.splice(0)) waker();
  }

  function resume(entry: Entry<M>): void {
    // Stopping: the entry stays, to be handed back once its look returns.
    if (stopped) return;
    entries.delete(entry.id);
    run(entry, () =>
      options.resume(entry.watch.message, () => settle(entry)).finally(() => settle(entry)),
    );
  }

  function tick(): void {
    const now = options.now();
    for (const entry of entries.values()) {
      if (stopped || active >= options.parallel) return;
      if (entry.busy) continue;
      if (now >= entry.visibleUntil - extendMarginMs(options.visibilitySeconds)) {
        run(entry, async () => {
          await options.extend(entry.watch.message, options.visibilitySeconds);
          entry.visibleUntil = options.now() + options.visibilitySeconds * 1000;
        });
        continue;
      }
      if (now >= entry.watch.deadline) {
        resume(entry);
        continue;
      }
      if (entry.woken !== undefined || now >= entry.lookAt) {
        const byEvent = entry.woken;
        entry.woken = undefined;
        run(entry, async () => {
          const { commandId } = entry.watch;
          const look =
            byEvent === undefined
              ? await options.look(commandId)
              : await options.lookEnded(commandId, byEvent);
          const at = options.now();
          // Ended, or further than the record says (its counts follow a fleet's rollout): the
          // job goes on with this look.
          if (look.ended || (byEvent === undefined && look.progress !== entry.watch.progress)) {
            resume(entry);
            return;
          }
          if (byEvent !== undefined) settle(entry);
          if (byEvent !== undefined && entry.eventLooks < maxEventLooks) {
            // The event can come before the end is visible to the API: look again shortly.
            entry.eventLooks++;
            entry.lookAt = at + eventRetryMs;
          } else {
            entry.lookAt = at + nextLookInMs(at - entry.watch.sentAt, options.lookIntervalMs);
          }
        });
        continue;
      }
      if (now >= entry.recordCheckAt) {
        run(entry, async () => {
          entry.recordCheckAt = options.now() + options.recordCheckMs;
          if (await options.needsAttention(entry.watch.jobId)) resume(entry);
        });
      }
    }
  }

  return {
    add(watch) {
      if (stopped) {
        // A job resumed while the process stops, still running: back to the queue at once.
        const back = options.handBack([watch.message]).catch(() => {});
        working.add(back);
        return;
      }
      const now = options.now();
      added += 1;
      entries.set(added, {
        id: added,
        watch,
        lookAt: watch.firstLookAt,
        recordCheckAt: now + options.recordCheckMs,
        visibleUntil: watch.visibleUntil,
        woken: undefined,
        eventLooks: 0,
        wakers: [],
        busy: false,
      });
    },
    wake(commandId, status) {
      const waiting = [...entries.values()].filter((e) => e.watch.commandId === commandId);
      if (waiting.length === 0) return undefined;
      return Promise.all(
        waiting.map((entry) => {
          entry.woken = status;
          return new Promise<void>((resolve) => entry.wakers.push(resolve));
        }),
      ).then(() => undefined);
    },
    get size() {
      return entries.size;
    },
    start() {
      timer = setInterval(tick, options.tickMs ?? 100);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      // Those not in a call go back now; an extension in flight must land before its hand-back.
      const handBack = async (held: Entry<M>[]) => {
        for (const e of held) {
          entries.delete(e.id);
          settle(e);
        }
        if (held.length === 0) return;
        await options.handBack(held.map((e) => e.watch.message)).catch(() => {});
        logger.info({ commands: held.length }, 'stopping: running jobs handed back to the queue');
      };
      const now = handBack([...entries.values()].filter((e) => !e.busy));
      await Promise.allSettled([...working]);
      await Promise.all([now, handBack([...entries.values()])]);
    },
    abandon() {
      const held = [...entries.values()];
      entries.clear();
      for (const e of held) settle(e);
      return held.map((e) => e.watch.message);
    },
  };
}
