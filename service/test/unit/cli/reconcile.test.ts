import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { runCli } from '../../../src/cli/program.ts';
import { aMapping, certArn, principals, type TestApi, testApi } from '../api/support/harness.ts';
import { fakeSts } from '../auth/support.ts';
import { type FakeCliEnvironment, fakeCliEnvironment, injectFetch } from './support.ts';

let api: TestApi;
let cli: FakeCliEnvironment;
let http: ReturnType<typeof injectFetch>;

/** The CLI against the API in-process, as `principal` (admin may deploy everywhere, ci to env=dev*). */
function as(principal: string) {
  const sts = fakeSts(principal);
  const clockHolder: { now: () => Date } = { now: () => new Date() };
  api = testApi({
    authenticator: stsAuthenticator({
      audience: 'acm-cert-export',
      stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
      maxTokenAgeSeconds: 300,
      clock: { now: () => clockHolder.now() },
      fetch: sts.fetch,
    }),
  });
  clockHolder.now = () => api.clock.now();
  http = injectFetch(api.app);
  cli = fakeCliEnvironment({ fetch: http.fetch, clock: api.clock });
}

beforeEach(async () => {
  as(principals.admin);
  await api.mappings.put(aMapping());
});
afterEach(async () => {
  await api.app.close();
});

const run = (...argv: string[]) => runCli(argv, cli);
const mappingArgs = ['--cert-arn', certArn, '--name', 'web', '--target', 'env=dev'];

describe('reconcile', () => {
  it('queues a sweep of every mapping and says where its outcome shows', async () => {
    expect(await run('reconcile')).toBe(0);
    expect(http.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ['POST', '/v1/reconcile', '{}'],
    ]);
    const [message] = api.queue.reconciles;
    expect(message).toMatchObject({ type: 'reconcile', requester: principals.admin });
    const sweepId = message?.sweepId ?? '?';
    expect(cli.stdout.join('\n')).toBe(
      [
        `Reconciliation of every mapping queued (sweep ${sweepId})`,
        `  the worker logs one line per mapping: "reconcile: …" with sweepId ${sweepId}`,
        `  the jobs it starts have requester "reconcile ${sweepId}": acm-cert-export list shows each mapping's last job; acm-cert-export status <job-id> --wait follows one`,
      ].join('\n'),
    );
  });

  it('--verify with one mapping: that mapping’s reconciliation, checking the files', async () => {
    expect(await run('reconcile', ...mappingArgs, '--verify')).toBe(0);
    expect(JSON.parse(http.requests[0]?.body ?? '')).toEqual({
      certificateArn: certArn,
      certName: 'web',
      target: { key: 'env', value: 'dev' },
      verify: true,
    });
    expect(api.queue.reconciles[0]).toMatchObject({
      type: 'reconcile-mapping',
      certName: 'web',
      verify: true,
    });
    expect(cli.stdout[0]).toMatch(
      new RegExp(
        `^Reconciliation of web of ${certArn} on env=dev, verifying the servers’ files queued \\(sweep api-`,
      ),
    );
  });

  it('--json prints the API’s answer', async () => {
    expect(await run('reconcile', '--json')).toBe(0);
    expect(JSON.parse(cli.stdout.join('\n'))).toEqual({
      sweepId: api.queue.reconciles[0]?.sweepId,
      scope: 'all',
      verify: false,
    });
  });

  it('refuses some but not all of the mapping’s options before any call', async () => {
    expect(await run('reconcile', '--cert-arn', certArn, '--target', 'env=dev')).toBe(1);
    expect(cli.stderr.join('\n')).toBe(
      'acm-cert-export: one mapping needs --cert-arn, --name and --target together (missing --name); without any of them every mapping is reconciled',
    );
    expect(await run('reconcile', ...mappingArgs.slice(0, 4), '--target', 'dev')).toBe(1);
    expect(cli.stderr.at(-1)).toMatch(/--target must be key=value/);
    expect(http.requests).toEqual([]);
  });

  it('reports the API’s refusals: a sweep needs deploy on every target, one mapping must exist', async () => {
    await api.app.close();
    as(principals.ci);
    expect(await run('reconcile')).toBe(1);
    expect(cli.stderr.join('\n')).toMatch(
      /^acm-cert-export: FORBIDDEN: .* may not reconcile every mapping: that needs "deploy" on every target/,
    );
    expect(await run('reconcile', ...mappingArgs)).toBe(1);
    expect(cli.stderr.at(-1)).toMatch(/MAPPING_NOT_FOUND: web of .* is not managed on env=dev/);
    expect(api.queue.reconciles).toEqual([]);
  });

  it('shows the options and who may use them in its help', async () => {
    expect(await run('reconcile', '--help')).toBe(0);
    const help = cli.stdout.join('\n');
    expect(help).toMatch(/--verify/);
    expect(help).toMatch(
      /Every mapping needs deploy on every target \(a rule with target "\*=\*"\)/,
    );
  });
});
