import { afterEach, describe, expect, it } from 'vitest';
import { type TestApi, testApi } from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

describe('health', () => {
  it('/healthz answers 200 without credentials', async () => {
    api = testApi();
    const res = await api.call(undefined, 'GET', '/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when the queue and tables are reachable', async () => {
    api = testApi();
    const res = await api.call(undefined, 'GET', '/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { queue: 'ok', deployments: 'ok' } });
  });

  it('/readyz answers 503 naming the failing dependency, logging (not returning) why', async () => {
    api = testApi();
    api.readiness.result = {
      ok: false,
      details: {
        queue: { ok: false, message: 'AccessDenied on arn:aws:sqs:us-east-1:123456789012:jobs' },
        deployments: { ok: true },
      },
    };
    const res = await api.call(undefined, 'GET', '/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'not-ready',
      checks: { queue: 'failing', deployments: 'ok' },
    });
    expect(res.body).not.toContain('AccessDenied');
    expect(api.logs.join('\n')).toContain('AccessDenied');
  });

  it('/readyz reuses one answer for 2 s so it cannot be used to multiply AWS calls', async () => {
    api = testApi();
    await Promise.all([1, 2, 3].map(() => api.call(undefined, 'GET', '/readyz')));
    await api.call(undefined, 'GET', '/readyz');
    expect(api.readiness.calls).toBe(1);
    api.clock.advance(2001);
    await api.call(undefined, 'GET', '/readyz');
    expect(api.readiness.calls).toBe(2);
  });

  it('/readyz reports a probe that throws as not ready', async () => {
    api = testApi();
    api.readiness.check = async () => {
      throw new Error('boom');
    };
    const res = await api.call(undefined, 'GET', '/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not-ready', checks: { probe: 'failing' } });
  });
});
