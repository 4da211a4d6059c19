import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import type {
  QueueDepth,
  QueueWork,
  WorkerService,
  WorkerServiceState,
} from '../../../src/ports/worker-capacity.ts';
import { wakeWorker } from '../../../src/waker/wake-worker.ts';

class FakeQueue implements QueueDepth {
  readonly counts: QueueWork;
  constructor(counts: QueueWork) {
    this.counts = counts;
  }
  async work() {
    return this.counts;
  }
}

class FakeService implements WorkerService {
  readonly updates: number[] = [];
  current: WorkerServiceState | undefined;
  constructor(current: WorkerServiceState | undefined) {
    this.current = current;
  }
  async state() {
    return this.current;
  }
  async setDesiredCount(count: number) {
    this.updates.push(count);
    if (this.current !== undefined) this.current = { ...this.current, desiredCount: count };
  }
}

function world(counts: QueueWork, state: WorkerServiceState | undefined) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', {
    write: (chunk: string) => {
      lines.push(JSON.parse(chunk) as Record<string, unknown>);
    },
  });
  const service = new FakeService(state);
  return { deps: { queue: new FakeQueue(counts), service, logger }, service, lines };
}

const none = { visible: 0, inFlight: 0, delayed: 0 };
const active = (desiredCount: number) => ({ status: 'ACTIVE', desiredCount });

describe('the worker waker', () => {
  it('does nothing, and says nothing, when the queue holds no message', async () => {
    const w = world(none, active(0));
    expect(await wakeWorker(w.deps)).toEqual({ action: 'idle', messages: 0 });
    expect(w.service.updates).toEqual([]);
    expect(w.lines).toEqual([]);
  });

  it.each([
    ['waiting', { ...none, visible: 1 }],
    ['in flight (a task went away holding it)', { ...none, inFlight: 2 }],
    ['delayed (a server that just started)', { ...none, delayed: 1 }],
  ])('asks for one task when a message is %s and the service wants none', async (_what, counts) => {
    const w = world(counts, active(0));
    const outcome = await wakeWorker(w.deps);
    expect(outcome.action).toBe('started');
    expect(w.service.updates).toEqual([1]);
    expect(w.lines).toHaveLength(1);
    expect(w.lines[0]).toMatchObject({
      level: 'info',
      msg: expect.stringContaining('starting one'),
    });
  });

  it('never changes a service that already wants tasks (it never scales in)', async () => {
    const w = world({ visible: 500, inFlight: 3, delayed: 0 }, active(3));
    expect(await wakeWorker(w.deps)).toEqual({
      action: 'running',
      messages: 503,
      desiredCount: 3,
    });
    expect(w.service.updates).toEqual([]);
    expect(w.lines).toEqual([]);
  });

  it.each([
    ['being deleted', { status: 'DRAINING', desiredCount: 0 }, 'DRAINING'],
    ['unknown to ECS', undefined, 'MISSING'],
  ])('leaves a service %s alone and warns', async (_what, state, status) => {
    const w = world({ ...none, visible: 4 }, state);
    expect(await wakeWorker(w.deps)).toEqual({ action: 'unavailable', messages: 4, status });
    expect(w.service.updates).toEqual([]);
    expect(w.lines).toEqual([expect.objectContaining({ level: 'warn', status, messages: 4 })]);
  });

  it('lets a failed look fail the invocation (the next minute is the retry)', async () => {
    const w = world(none, active(0));
    const failing = {
      ...w.deps,
      queue: {
        work: async () => {
          throw new Error('AccessDenied');
        },
      },
    };
    await expect(wakeWorker(failing)).rejects.toThrow('AccessDenied');
  });
});
