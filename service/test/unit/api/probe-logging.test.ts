import { afterEach, describe, expect, it } from 'vitest';
import { type TestApi, testApi } from './support/harness.ts';

// Probes come every few seconds from the load balancer and the orchestrator: at info they would
// be most of the log. Their requests log at warn and above only; every other request still logs
// its arrival and its answer at info. (The metrics listener, metrics-server.ts, logs no request.)
let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

const info = 30;

function linesBelowWarn(lines: readonly string[]): { level: number; msg: string; url?: string }[] {
  return lines
    .map((line) => JSON.parse(line) as { level: number; msg: string; req?: { url?: string } })
    .filter((line) => line.level < 40)
    .map((line) => ({ level: line.level, msg: line.msg, url: line.req?.url }));
}

describe('request logs', () => {
  it.each(['/healthz', '/readyz'])('%s writes no line below warn', async (path) => {
    api = testApi();
    const res = await api.call(undefined, 'GET', path);
    expect(res.statusCode).toBe(200);
    expect(linesBelowWarn(api.logs)).toEqual([]);
  });

  it('any other request still logs at info, the same app and logger', async () => {
    api = testApi();
    await api.call(undefined, 'GET', '/healthz');
    const res = await api.call('reader', 'GET', '/v1/deployments/job-12345678');
    expect(res.statusCode).toBe(404);
    const lines = linesBelowWarn(api.logs);
    expect(lines.filter((l) => l.level === info).map((l) => l.msg)).toContain('request completed');
    expect(lines.find((l) => l.url !== undefined)?.url).toBe('/v1/deployments/job-12345678');
  });
});
