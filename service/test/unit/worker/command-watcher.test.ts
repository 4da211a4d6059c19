import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import {
  type CommandWatcher,
  createCommandWatcher,
  nextLookInMs,
} from '../../../src/worker/command-watcher.ts';

interface Calls {
  looks: string[];
  attention: string[];
  resumed: string[];
  extended: [string, number][];
  handedBack: string[];
}

/** A watcher over messages named by strings, with every callback recorded. */
function aWatcher(
  ended: (commandId: string, lookNumber: number) => boolean,
  needsAttention: (jobId: string) => boolean = () => false,
  progressAt: (lookNumber: number) => string = () => '0/0',
  visibilitySeconds = 60,
) {
  const calls: Calls = { looks: [], attention: [], resumed: [], extended: [], handedBack: [] };
  const watcher: CommandWatcher<string> = createCommandWatcher<string>({
    now: () => Date.now(),
    logger: createLogger('silent'),
    lookIntervalMs: 5000,
    recordCheckMs: 15_000,
    visibilitySeconds,
    parallel: 4,
    tickMs: 100,
    look: async (commandId) => {
      calls.looks.push(commandId);
      const n = calls.looks.filter((c) => c.startsWith(commandId)).length;
      return { ended: ended(commandId, n), progress: progressAt(n) };
    },
    lookEnded: async (commandId, status) => {
      calls.looks.push(`${commandId} ${status}`);
      const n = calls.looks.filter((c) => c.startsWith(commandId)).length;
      return { ended: ended(commandId, n), progress: progressAt(n) };
    },
    needsAttention: async (jobId) => {
      calls.attention.push(jobId);
      return needsAttention(jobId);
    },
    resume: async (message, handled) => {
      calls.resumed.push(message);
      handled();
    },
    extend: async (message, seconds) => {
      calls.extended.push([message, seconds]);
    },
    handBack: async (messages) => {
      calls.handedBack.push(...messages);
    },
  });
  watcher.start();
  return { watcher, calls };
}

const aWatch = (commandId: string, overrides: Record<string, number> = {}) => ({
  commandId,
  jobId: `job-${commandId}`,
  deadline: Date.now() + 3_600_000,
  firstLookAt: Date.now() + 5000,
  sentAt: Date.now(),
  visibleUntil: Date.now() + 40_000,
  message: `message-${commandId}`,
  progress: '0/0',
  ...overrides,
});

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-11-30T06:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the wait between two looks', () => {
  it('is the interval, a quarter of the command’s age once longer, at most six intervals', () => {
    expect(nextLookInMs(3000, 5000)).toBe(5000);
    expect(nextLookInMs(20_000, 5000)).toBe(5000);
    expect(nextLookInMs(60_000, 5000)).toBe(15_000);
    expect(nextLookInMs(600_000, 5000)).toBe(30_000);
  });
});

describe('the command watcher', () => {
  it('looks at a command once per interval, and resumes its job when it ended', async () => {
    const { watcher, calls } = aWatcher((_, n) => n >= 3);
    watcher.add(aWatch('c1'));
    await vi.advanceTimersByTimeAsync(4900);
    expect(calls.looks).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.looks).toEqual(['c1']);
    await vi.advanceTimersByTimeAsync(4800);
    expect(calls.looks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5300);
    expect(calls.looks).toHaveLength(3);
    expect(calls.resumed).toEqual(['message-c1']);
    expect(watcher.size).toBe(0);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls.looks).toHaveLength(3);
  });

  it('looks at once on a status-change event, and again shortly while the end is not visible yet', async () => {
    const { watcher, calls } = aWatcher((_, n) => n >= 2);
    watcher.add(aWatch('c1'));
    const woken = watcher.wake('c1', 'Success');
    expect(woken).toBeInstanceOf(Promise);
    expect(watcher.wake('unknown', 'Success')).toBeUndefined();
    let settled = false;
    void woken?.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(150);
    expect(calls.looks).toEqual(['c1 Success']);
    expect(calls.resumed).toEqual([]);
    // The event's handler is told: the look found the command running still.
    expect(settled).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls.looks).toEqual(['c1 Success', 'c1']);
    expect(calls.resumed).toEqual(['message-c1']);
  });

  it('resumes a job whose command got further than its record says, to record how far', async () => {
    const { watcher, calls } = aWatcher(
      () => false,
      () => false,
      (n) => (n >= 2 ? '40/1' : '0/0'),
    );
    watcher.add(aWatch('c1'));
    await vi.advanceTimersByTimeAsync(5100);
    expect(calls.resumed).toEqual([]);
    await vi.advanceTimersByTimeAsync(5100);
    expect(calls.looks).toEqual(['c1', 'c1']);
    expect(calls.resumed).toEqual(['message-c1']);
  });

  it('follows two messages of one job (a duplicate) waiting for the same command, and wakes both', async () => {
    const { watcher, calls } = aWatcher(() => true);
    watcher.add(aWatch('c1'));
    watcher.add({ ...aWatch('c1'), message: 'duplicate-of-c1' });
    expect(watcher.size).toBe(2);
    const woken = watcher.wake('c1', 'Success');
    await vi.advanceTimersByTimeAsync(200);
    await woken;
    expect(calls.resumed.sort()).toEqual(['duplicate-of-c1', 'message-c1']);
    expect(watcher.size).toBe(0);
  });

  it('resumes a job at its deadline without looking, for its timeout', async () => {
    const { watcher, calls } = aWatcher(() => false);
    watcher.add(aWatch('c1', { deadline: Date.now() + 2000, firstLookAt: Date.now() + 60_000 }));
    await vi.advanceTimersByTimeAsync(2200);
    expect(calls.looks).toEqual([]);
    expect(calls.resumed).toEqual(['message-c1']);
  });

  it('keeps the message invisible: extends it before its visibility ends', async () => {
    const { watcher, calls } = aWatcher(() => false);
    watcher.add(aWatch('c1', { visibleUntil: Date.now() + 20_000 }));
    await vi.advanceTimersByTimeAsync(4000);
    expect(calls.extended).toEqual([]);
    await vi.advanceTimersByTimeAsync(1200);
    expect(calls.extended).toEqual([['message-c1', 60]]);
    // The next extension only when the new visibility is near its end.
    await vi.advanceTimersByTimeAsync(40_000);
    expect(calls.extended).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(6000);
    expect(calls.extended).toHaveLength(2);
  });

  it('with a short visibility timeout, extends a third before its end and still looks', async () => {
    const { watcher, calls } = aWatcher(
      (_, n) => n >= 1,
      () => false,
      () => '0/0',
      10,
    );
    watcher.add(aWatch('c1', { visibleUntil: Date.now() + 5600 }));
    await vi.advanceTimersByTimeAsync(2500);
    expect(calls.extended).toEqual([['message-c1', 10]]);
    await vi.advanceTimersByTimeAsync(2700);
    expect(calls.extended).toHaveLength(1);
    expect(calls.looks).toEqual(['c1']);
    expect(calls.resumed).toEqual(['message-c1']);
  });

  it("reads the job's record for a cancel request, and resumes the job when it asks", async () => {
    let cancel = false;
    const { watcher, calls } = aWatcher(
      () => false,
      () => cancel,
    );
    watcher.add(aWatch('c1', { firstLookAt: Date.now() + 3_600_000 }));
    await vi.advanceTimersByTimeAsync(15_200);
    expect(calls.attention).toEqual(['job-c1']);
    expect(calls.resumed).toEqual([]);
    cancel = true;
    await vi.advanceTimersByTimeAsync(15_000);
    expect(calls.resumed).toEqual(['message-c1']);
  });

  it('hands every message back when stopping, and any job that comes back later too', async () => {
    const { watcher, calls } = aWatcher(() => false);
    watcher.add(aWatch('c1'));
    watcher.add(aWatch('c2'));
    await watcher.stop();
    expect(calls.handedBack.sort()).toEqual(['message-c1', 'message-c2']);
    watcher.add(aWatch('c3'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.handedBack).toContain('message-c3');
    expect(calls.looks).toEqual([]);
    expect(watcher.size).toBe(0);
  });

  it('when stopping, hands back at once those not in a call, in one go; one whose look is in flight once it returns, never resumed', async () => {
    const handedBack: string[][] = [];
    const resumed: string[] = [];
    let lookDone: (() => void) | undefined;
    const watcher = createCommandWatcher<string>({
      now: () => Date.now(),
      logger: createLogger('silent'),
      lookIntervalMs: 5000,
      recordCheckMs: 600_000,
      visibilitySeconds: 60,
      parallel: 4,
      tickMs: 100,
      // c1's look is slow and finds the command ended; the others' looks are not due.
      look: (commandId) =>
        new Promise((resolve) => {
          lookDone = () => resolve({ ended: commandId === 'c1', progress: '1/1' });
        }),
      lookEnded: async () => ({ ended: false, progress: '0/0' }),
      needsAttention: async () => false,
      resume: async (message, handled) => {
        resumed.push(message);
        handled();
      },
      extend: async () => {},
      handBack: async (messages) => {
        handedBack.push([...messages]);
      },
    });
    watcher.start();
    watcher.add(aWatch('c1', { firstLookAt: Date.now() }));
    watcher.add(aWatch('c2'));
    watcher.add(aWatch('c3'));
    await vi.advanceTimersByTimeAsync(150);
    expect(lookDone).toBeDefined();
    const stopped = watcher.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(handedBack).toEqual([['message-c2', 'message-c3']]);
    lookDone?.();
    await stopped;
    expect(handedBack).toEqual([['message-c2', 'message-c3'], ['message-c1']]);
    expect(resumed).toEqual([]);
    expect(watcher.size).toBe(0);
  });

  it('gives up the messages not handed back yet when the grace is over', async () => {
    const handedBack: string[] = [];
    const watcher = createCommandWatcher<string>({
      now: () => Date.now(),
      logger: createLogger('silent'),
      lookIntervalMs: 5000,
      recordCheckMs: 600_000,
      visibilitySeconds: 60,
      parallel: 4,
      tickMs: 100,
      // The look never returns (a hung call).
      look: () => new Promise(() => {}),
      lookEnded: async () => ({ ended: false, progress: '0/0' }),
      needsAttention: async () => false,
      resume: async () => {},
      extend: async () => {},
      handBack: async (messages) => {
        handedBack.push(...messages);
      },
    });
    watcher.start();
    watcher.add(aWatch('c1', { firstLookAt: Date.now() }));
    await vi.advanceTimersByTimeAsync(150);
    void watcher.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(handedBack).toEqual([]);
    expect(watcher.abandon()).toEqual(['message-c1']);
    expect(watcher.abandon()).toEqual([]);
    expect(watcher.size).toBe(0);
  });
});
