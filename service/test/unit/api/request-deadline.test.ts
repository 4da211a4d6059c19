import { afterEach, describe, expect, it } from 'vitest';
import { idempotentJobId } from '../../../src/api/submit.ts';
import {
  aMapping,
  apiConfig,
  principals,
  type TestApi,
  testApi,
  v1Body,
} from './support/harness.ts';

// Seen in the soak: behind throttling, 5xx and dropped connections, GET /v1/certificates (a page
// of mappings, then the servers of each) was not answered within 30 s, five times. Each request
// now has a deadline (API_DEADLINE_SECONDS); these use 1 s and ports that do not answer.

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

/** A port call that answers only when `release` is called. */
function held<T>(value: T) {
  let release: () => void = () => undefined;
  const answered = new Promise<T>((resolve) => {
    release = () => resolve(value);
  });
  return { answered, release: () => release() };
}

describe('the request deadline', () => {
  it('answers a read still waiting on AWS 503 with Retry-After', async () => {
    api = testApi({ config: { api: { ...apiConfig().api, deadlineSeconds: 1 } } });
    await api.mappings.put(aMapping());
    const page = held({ items: [], cursor: undefined });
    api.mappings.list = () => page.answered;
    const started = Date.now();
    const res = await api.call('admin', 'GET', '/v1/certificates');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error).toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      message: 'AWS did not answer within 1 s; retry later',
    });
    expect(res.json().error.requestId).toBe(res.headers['x-request-id']);
    // The handler's call answering later changes nothing and throws nowhere.
    page.release();
    await new Promise((r) => setTimeout(r, 50));
    const again = await api.call('admin', 'GET', '/v1/certificates');
    expect(again.statusCode).toBe(200);
  });

  it('tells a write it may still be carried out; the retry with its key gives the same job', async () => {
    api = testApi({ config: { api: { ...apiConfig().api, deadlineSeconds: 1 } } });
    const queue = held(undefined);
    api.queue.beforeSend = () => queue.answered;
    const headers = { 'idempotency-key': 'slow-queue' };
    const first = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    expect(first.statusCode).toBe(503);
    expect(first.headers['retry-after']).toBe('5');
    expect(first.json().error.message).toMatch(
      /may still be carried out; retry it with the same Idempotency-Key/,
    );
    // The queue answers at last: the first request's job is queued after its answer.
    queue.release();
    api.queue.beforeSend = undefined;
    const jobId = idempotentJobId(principals.admin, 'slow-queue');
    for (let i = 0; i < 50 && api.queue.messages.length === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(api.queue.messages.map((m) => m.jobId)).toEqual([jobId]);
    const retry = await api.call('admin', 'POST', '/v1/deployments', v1Body, headers);
    expect(retry.statusCode).toBe(202);
    expect(retry.json().jobId).toBe(jobId);
  });

  it('answers in time as before, and leaves the health routes to their own timeouts', async () => {
    api = testApi({ config: { api: { ...apiConfig().api, deadlineSeconds: 1 } } });
    await api.mappings.put(aMapping());
    const res = await api.call('admin', 'GET', '/v1/certificates');
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toHaveLength(1);
    api.readiness.delayMs = 1_500;
    const ready = await api.call(undefined, 'GET', '/readyz');
    expect(ready.statusCode).toBe(200);
  });
});
