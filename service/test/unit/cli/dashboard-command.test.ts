import { createServer } from 'node:net';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { decodeToken } from '../../../src/auth/token.ts';
import { Cli } from '../../../src/cli/cli-context.ts';
import { addDashboardCommand } from '../../../src/cli/dashboard-command.ts';
import {
  aDeployment,
  aMapping,
  principals,
  type TestApi,
  testApi,
} from '../api/support/harness.ts';
import { fakeSts } from '../auth/support.ts';
import { send } from '../dashboard/support.ts';
import { type FakeCliEnvironment, fakeCliEnvironment, injectFetch } from './support.ts';

let api: TestApi;
let cli: FakeCliEnvironment;
let http: ReturnType<typeof injectFetch>;

beforeEach(() => {
  const clockHolder: { now: () => Date } = { now: () => new Date() };
  api = testApi({
    authenticator: stsAuthenticator({
      audience: 'acm-cert-export',
      stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
      maxTokenAgeSeconds: 300,
      clock: { now: () => clockHolder.now() },
      fetch: fakeSts(principals.admin).fetch,
    }),
  });
  clockHolder.now = () => api.clock.now();
  http = injectFetch(api.app);
  cli = fakeCliEnvironment({ fetch: http.fetch, clock: api.clock });
});
afterEach(async () => {
  await api.app.close();
});

/** Runs `acm-cert-export dashboard …` until `stop` is called; resolves once it listens. */
async function dashboard(...argv: string[]) {
  const program = new Command('acm-cert-export').exitOverride();
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const opened: string[] = [];
  let listening: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    listening = resolve;
  });
  addDashboardCommand(program, new Cli(cli, program), {
    stopped: () => stopped,
    listening,
    openBrowser: (u) => opened.push(u),
  });
  const done = program.parseAsync(['dashboard', ...argv], { from: 'user' });
  const ended = done.then(
    () => '',
    () => '',
  );
  return { url: await Promise.race([url, ended]), stop, done, opened };
}

describe('acm-cert-export dashboard', () => {
  it('serves the page on 127.0.0.1 and forwards its reads signed with the user’s credentials', async () => {
    await api.mappings.put(aMapping({ certName: 'web', serial: '0a', lastOutcome: 'Succeeded' }));
    const run = await dashboard('--port', '0', '--open');
    expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(cli.stdout.join('\n')).toContain(
      `Dashboard: ${run.url} (read-only; reads http://api.test`,
    );
    expect(run.opened).toEqual([run.url]);

    const page = await send(run.url);
    expect(page.status).toBe(200);
    const list = await send(`${run.url}api/v1/certificates?limit=100`);
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).items).toEqual([
      expect.objectContaining({ certName: 'web', servers: { converged: 0, total: 0 } }),
    ]);
    const [request] = http.requests;
    expect(request).toMatchObject({ method: 'GET', url: '/v1/certificates?limit=100' });
    // Signed as every command signs: a token for the caller's own credentials.
    expect(decodeToken(request?.headers.authorization).headers.host).toBe(
      'sts.us-east-1.amazonaws.com',
    );
    // The page never sees a token or a key.
    expect(JSON.stringify(list.headers) + list.body).not.toMatch(
      /AcmCertExport|AKIA|authorization/i,
    );

    run.stop();
    await run.done;
    await expect(send(run.url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('passes the API’s errors on with their status and code', async () => {
    await api.deployments.create(aDeployment({ jobId: 'job-00000001' }));
    const run = await dashboard('--port', '0');
    const found = await send(`${run.url}api/v1/deployments/job-00000001`);
    expect(found.status).toBe(200);
    const missing = await send(`${run.url}api/v1/deployments/job-99999999`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toEqual({
      code: 'DEPLOYMENT_NOT_FOUND',
      message: expect.stringContaining('no deployment job-99999999'),
    });
    run.stop();
    await run.done;
  });

  it('502 with the reason when the API cannot be reached', async () => {
    cli = fakeCliEnvironment({
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof fetch,
      clock: api.clock,
    });
    const run = await dashboard('--port', '0');
    const res = await send(`${run.url}api/v1/certificates`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).error).toEqual({
      code: 'API_UNREACHABLE',
      message: 'cannot reach http://api.test: fetch failed',
    });
    run.stop();
    await run.done;
  });

  it('says which port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const run = await dashboard('--port', String(port));
      await expect(run.done).rejects.toThrow(
        `port ${port} on 127.0.0.1 is in use: pass --port with another (0: any free one)`,
      );
    } finally {
      taken.close();
    }
  });

  it('refuses a port that is not one', async () => {
    const run = await dashboard('--port', '70000');
    await expect(run.done).rejects.toThrow('--port must be a TCP port');
  });
});
