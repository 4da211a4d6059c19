import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { decodeToken } from '../../../src/auth/token.ts';
import { shortId } from '../../../src/cli/display.ts';
import { runCli } from '../../../src/cli/program.ts';
import { renewalEvent } from '../../../src/cli/renewal-event.ts';
import type { Deployment, ServerResult } from '../../../src/domain/deployment.ts';
import { parseMessage } from '../../../src/messages/parse-message.ts';
import { aMapping, certArn, principals, type TestApi, testApi } from '../api/support/harness.ts';
import { fakeSts } from '../auth/support.ts';
import { type FakeCliEnvironment, fakeCliEnvironment, injectFetch } from './support.ts';

let api: TestApi;
let cli: FakeCliEnvironment;
let http: ReturnType<typeof injectFetch>;
let sts: ReturnType<typeof fakeSts>;

beforeEach(() => {
  sts = fakeSts(principals.admin);
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
});
afterEach(async () => {
  await api.app.close();
});

const run = (...argv: string[]) => runCli(argv, cli);
const deployArgs = ['deploy', '--cert-arn', certArn, '--name', 'web', '--target', 'env=dev'];

async function advance(
  jobId: string,
  changes: Partial<Deployment>,
  servers: readonly ServerResult[] = [],
) {
  const d = await api.deployments.get(jobId);
  if (d === undefined) throw new Error(`no job ${jobId}`);
  await api.servers.recordJobResults(jobId, servers, new Date('2027-01-01T00:00:00Z'));
  await api.deployments.save({ ...d, ...changes, version: d.version + 1 });
}

describe('deploy', () => {
  it('queues a job, signed with the caller’s credentials, and prints how to follow it', async () => {
    const code = await run(...deployArgs, '--reload-command', '/usr/bin/systemctl reload nginx');
    expect(code).toBe(0);
    const [message] = api.queue.messages;
    expect(message).toMatchObject({
      certificateArn: certArn,
      certName: 'web',
      target: { key: 'env', value: 'dev' },
      install: { reloadCommand: '/usr/bin/systemctl reload nginx' },
      requester: principals.admin,
    });
    expect(cli.stdout.join('\n')).toMatch(
      new RegExp(
        `^Job ${shortId(message?.jobId ?? '')} Queued\\n  status: http://api.test/v1/deployments/${message?.jobId}`,
      ),
    );
    const [request] = http.requests;
    expect(request?.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeToken(request?.headers.authorization).headers.host).toBe(
      'sts.us-east-1.amazonaws.com',
    );
  });

  it('--format, repeated or comma-separated, asks for the output formats; none asks for none', async () => {
    expect(await run(...deployArgs, '--format', 'pkcs12', '--format', 'combined')).toBe(0);
    expect(await run(...deployArgs, '--format', 'combined,pkcs12-legacy')).toBe(0);
    expect(await run(...deployArgs, '--format', 'none')).toBe(0);
    expect(api.queue.messages.map((m) => m.install)).toEqual([
      { formats: ['combined', 'pkcs12'] },
      { formats: ['combined', 'pkcs12-legacy'] },
      { formats: [] },
    ]);
    expect(await run(...deployArgs, '--format', 'jks')).not.toBe(0);
    expect(cli.stderr.join('\n')).toMatch(/install\/formats/);
  });

  it('--dry-run shows the plan and queues nothing: exit 0 when every server would get it, 2 when not', async () => {
    api.certificates.add(
      { arn: certArn, serial: '0a' },
      { certificate: 'c', chain: 'ch', encryptedPrivateKey: undefined as never },
    );
    api.commands.online('i-0aaaaaaaaaaaaaaa1');
    api.commands.tag('i-0aaaaaaaaaaaaaaa1', { env: 'dev' });
    expect(await run(...deployArgs, '--dry-run')).toBe(0);
    const out = cli.stdout.join('\n');
    expect(out).toContain(`Dry run: web of ${certArn} on env=dev (nothing was changed)`);
    expect(out).toMatch(
      /i-0aaaaaaaaaaaaaaa1\s+Online\s+agent 3\.3\.2957\.0\s+holds nothing of ours\s+would install/,
    );
    expect(api.queue.messages).toEqual([]);
    expect(http.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v1/deployments/dry-run',
    ]);

    api.commands.nodes.set('i-0bbbbbbbbbbbbbbb2', {
      instanceId: 'i-0bbbbbbbbbbbbbbb2',
      pingStatus: 'ConnectionLost',
    });
    api.commands.tag('i-0bbbbbbbbbbbbbbb2', { env: 'dev' });
    expect(await run(...deployArgs, '--dry-run', '--json')).toBe(2);
    expect(JSON.parse(cli.stdout.at(-1) ?? '{}').problems).toEqual([
      'i-0bbbbbbbbbbbbbbb2: its agent is ConnectionLost; Run Command would not reach it',
    ]);
    expect(await run(...deployArgs, '--dry-run', '--wait')).toBe(1);
    expect(cli.stderr.join('\n')).toContain('--dry-run deploys nothing');
  });

  it('--json prints the API’s answer', async () => {
    expect(await run(...deployArgs, '--json')).toBe(0);
    expect(JSON.parse(cli.stdout.join('\n'))).toMatchObject({ status: 'Queued' });
  });

  it('--wait follows the job per server to the end: exit 0 when it succeeded', async () => {
    let step = 0;
    cli.onSleep = async () => {
      const jobId = api.queue.messages[0]?.jobId ?? '';
      step += 1;
      if (step === 1) {
        await advance(jobId, {
          status: 'Running',
          counts: { target: 2, completed: 0, errors: 0 },
        });
      }
      if (step === 2) {
        await advance(
          jobId,
          {
            status: 'Succeeded',
            counts: { target: 2, completed: 2, errors: 0, succeeded: 2, failed: 0 },
          },
          ['i-1', 'i-2'].map((instanceId) => ({
            instanceId,
            status: 'Success',
            statusDetails: 'Success',
            summary: {
              outcome: 'installed',
              serial: '0a',
              notBefore: null,
              notAfter: null,
              sha256: null,
              files: [],
              reloaded: true,
            },
            updatedAt: 'y',
          })),
        );
      }
    };
    expect(await run(...deployArgs, '--wait')).toBe(0);
    const out = cli.stdout.join('\n');
    expect(out).toMatch(/Queued/);
    expect(out).toMatch(/Running {2}0\/2 servers done, 0 failed/);
    expect(out).toMatch(/Succeeded {2}2\/2 servers done, 0 failed/);
    expect(out).toMatch(/i-1 +Success +installed, serial 0a, reloaded/);
    expect(out).toMatch(/i-2 +Success +installed, serial 0a, reloaded/);
    // One token reused across polls: one STS call for the whole run.
    expect(sts.calls).toHaveLength(1);
  });

  it('--wait exits 2 when the job ends in another terminal status', async () => {
    cli.onSleep = async () => {
      await advance(api.queue.messages[0]?.jobId ?? '', {
        status: 'NoTargets',
        reason: 'no managed node carries env=dev',
      });
    };
    expect(await run(...deployArgs, '--wait')).toBe(2);
    expect(cli.stdout.join('\n')).toMatch(/reason +no managed node carries env=dev/);
  });

  it('--wait --timeout exits 3 while the job still runs', async () => {
    expect(await run(...deployArgs, '--wait', '--timeout', '5', '--interval', '2')).toBe(3);
    expect(cli.stderr.join('\n')).toMatch(/still Queued after 5 s/);
  });

  it('retries a 503 with the same Idempotency-Key: one job', async () => {
    api.queue.failures = 1;
    expect(await run(...deployArgs)).toBe(0);
    const keys = http.requests.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(api.deployments.records.size).toBe(1);
    expect(api.queue.messages).toHaveLength(1);
  });

  it('reports API errors with their code, exit 1', async () => {
    sts.respond = () =>
      new Response(
        '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/nobody</Arn><UserId>x</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>',
      );
    expect(await run(...deployArgs)).toBe(1);
    expect(cli.stderr.join('\n')).toBe(
      'acm-cert-export: FORBIDDEN: arn:aws:iam::123456789012:user/nobody is not allowed to deploy',
    );
  });

  it('reports validation problems per field', async () => {
    expect(await run('deploy', '--cert-arn', 'nope', '--name', 'web', '--target', 'env=dev')).toBe(
      1,
    );
    expect(cli.stderr.join('\n')).toMatch(/VALIDATION_FAILED: .*\n {2}\/certificateArn must match/);
  });

  it.each([
    [
      ['deploy', '--cert-arn', certArn, '--name', 'web', '--target', 'env'],
      /--target must be key=value/,
    ],
    [['deploy', '--cert-arn', certArn], /required option '--name <name>'/],
    [['nonsense'], /unknown command 'nonsense'/],
  ])('usage errors exit 1: %j', async (argv, message) => {
    expect(await runCli(argv, cli)).toBe(1);
    expect(cli.stderr.join('\n')).toMatch(message);
    expect(api.queue.messages).toHaveLength(0);
  });

  it('needs an API URL and a region', async () => {
    const noUrl = fakeCliEnvironment({
      fetch: http.fetch,
      clock: api.clock,
      env: { ACM_CERT_EXPORT_URL: undefined },
    });
    expect(await runCli(deployArgs, noUrl)).toBe(1);
    expect(noUrl.stderr.join('\n')).toMatch(/--endpoint or set ACM_CERT_EXPORT_URL/);
    const noRegion = fakeCliEnvironment({
      fetch: http.fetch,
      clock: api.clock,
      env: { AWS_REGION: undefined },
    });
    expect(await runCli(deployArgs, noRegion)).toBe(1);
    expect(noRegion.stderr.join('\n')).toMatch(/no AWS region/);
  });
});

describe('status', () => {
  it('shows a job; exit 0 in progress, 2 when it failed', async () => {
    await run(...deployArgs);
    const jobId = api.queue.messages[0]?.jobId ?? '';
    expect(await run('status', jobId)).toBe(0);
    expect(cli.stdout.at(-1)).toMatch(new RegExp(`^Job ${shortId(jobId)} {2}Queued`));
    await advance(jobId, { status: 'Failed', reason: 'certificate not exportable' });
    expect(await run('status', jobId, '--json')).toBe(2);
    expect(JSON.parse(cli.stdout.at(-1) ?? '')).toMatchObject({ status: 'Failed' });
  });

  it('an unknown job exits 1 with DEPLOYMENT_NOT_FOUND', async () => {
    expect(await run('status', 'job-00000000')).toBe(1);
    expect(cli.stderr.join('\n')).toMatch(/DEPLOYMENT_NOT_FOUND/);
  });
});

describe('deploy --canary', () => {
  it('asks for a canary first', async () => {
    expect(await run(...deployArgs, '--canary', '2')).toBe(0);
    expect(JSON.parse(http.requests.at(-1)?.body ?? '{}')).toMatchObject({
      rollout: { canary: 2 },
    });
    expect(api.queue.messages[0]?.rollout).toEqual({ canary: 2 });
  });
});

describe('cancel', () => {
  it('records the request and says how to follow the job; exit 0', async () => {
    await run(...deployArgs);
    const jobId = api.queue.messages[0]?.jobId ?? '';
    expect(await run('cancel', jobId)).toBe(0);
    expect(http.requests.at(-1)).toMatchObject({
      method: 'POST',
      url: `/v1/deployments/${jobId}/cancel`,
    });
    expect(cli.stdout.at(-1)).toMatch(
      new RegExp(
        `^Cancel of job ${shortId(jobId)} requested by ${principals.admin} at .* \\(it was Queued\\)`,
      ),
    );
    expect((await api.deployments.get(jobId))?.cancelRequest?.by).toBe(principals.admin);
  });

  it('--wait follows the job until it ends: exit 2 when it ended Cancelled', async () => {
    await run(...deployArgs);
    const jobId = api.queue.messages[0]?.jobId ?? '';
    cli.onSleep = async () => {
      await advance(jobId, { status: 'Cancelled', reason: 'cancelled by someone' });
    };
    expect(await run('cancel', jobId, '--wait', '--interval', '1')).toBe(2);
    expect(cli.stdout.join('\n')).toMatch(/Cancelled[\s\S]*reason +cancelled by someone/);
  });

  it('a job that has ended exits 1 with DEPLOYMENT_FINISHED', async () => {
    await run(...deployArgs);
    const jobId = api.queue.messages[0]?.jobId ?? '';
    await advance(jobId, { status: 'Succeeded', reason: 'installed on 1 of 1 servers' });
    expect(await run('cancel', jobId)).toBe(1);
    expect(cli.stderr.join('\n')).toMatch(
      /DEPLOYMENT_FINISHED: deployment .* has already ended Succeeded/,
    );
  });

  it('documents its exit codes in its help', async () => {
    expect(await run('cancel', '--help')).toBe(0);
    const help = cli.stdout.join('\n');
    expect(help).toMatch(/Exit codes:/);
    expect(help).toMatch(/2 +with --wait: the job ended Cancelled/);
  });
});

describe('list', () => {
  it('reads every page and prints a table, or one JSON array', async () => {
    for (let i = 0; i < 105; i++) {
      await api.mappings.put(
        aMapping({
          certName: `site-${String(i).padStart(3, '0')}`,
          notAfter: '2026-12-27T00:00:00Z',
        }),
      );
    }
    expect(await run('list')).toBe(0);
    const table = (cli.stdout.at(-1) ?? '').split('\n');
    expect(table[0]).toMatch(
      /^TARGET +NAME +DAYS +NOT AFTER +LAST OUTCOME +LAST JOB +SERVERS +CERTIFICATE$/,
    );
    expect(table).toHaveLength(106);
    expect(table[1]).toMatch(
      /^env=dev +site-000 +30 +2026-12-27 00:00:00 \+00:00 +- +- +0\/0 +arn:aws:acm:/,
    );
    expect(await run('list', '--json')).toBe(0);
    expect(JSON.parse(cli.stdout.at(-1) ?? '')).toHaveLength(105);
  });
});

describe('stop-managing', () => {
  it('removes the mapping (URL-encoding every segment)', async () => {
    await api.mappings.put(aMapping({ target: { key: 'app/tier', value: 'web 1' } }));
    expect(
      await run(
        'stop-managing',
        '--cert-arn',
        certArn,
        '--name',
        'web',
        '--target',
        'app/tier=web 1',
      ),
    ).toBe(0);
    expect(api.mappings.items.size).toBe(0);
    expect(cli.stdout.at(-1)).toMatch(/No longer managing web/);
  });
});

describe('token', () => {
  it('prints an Authorization header value for the configured STS endpoint and audience', async () => {
    const env = fakeCliEnvironment({
      fetch: http.fetch,
      clock: api.clock,
      env: {
        AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566',
        ACM_CERT_EXPORT_AUDIENCE: 'certs-prod',
      },
    });
    expect(await runCli(['token'], env)).toBe(0);
    const parts = decodeToken(env.stdout[0]);
    expect(parts.headers.host).toBe('127.0.0.1:4566');
    expect(parts.headers['x-acm-cert-export-server-id']).toBe('certs-prod');
    expect(parts.headers.authorization).toContain('/us-east-1/sts/aws4_request');
  });

  it('signs for the region of a standard STS endpoint', async () => {
    expect(await run('token', '--sts-endpoint', 'https://sts.eu-west-1.amazonaws.com')).toBe(0);
    expect(decodeToken(cli.stdout[0]).headers.authorization).toContain('/eu-west-1/sts/');
  });

  it('explains missing credentials', async () => {
    const env = fakeCliEnvironment({ fetch: http.fetch, clock: api.clock });
    const broken: typeof env = {
      ...env,
      credentials: () => async () => {
        throw new Error('Could not load credentials from any providers');
      },
    };
    expect(await runCli(['token'], broken)).toBe(1);
    expect(env.stderr.join('\n')).toMatch(/cannot sign a token .*Could not load credentials/);
  });
});

describe('renew', () => {
  it('puts an ACM RENEWAL event the worker recognises on the queue', async () => {
    expect(await run('renew', '--cert-arn', certArn, '--queue-url', 'http://sqs.test/q')).toBe(0);
    const [sent] = cli.sent;
    expect(sent).toMatchObject({ queueUrl: 'http://sqs.test/q', region: 'us-east-1' });
    const parsed = parseMessage(sent?.body ?? '');
    expect(parsed).toMatchObject({
      kind: 'acm-event',
      event: {
        'detail-type': 'ACM Certificate Available',
        source: 'aws.acm',
        resources: [certArn],
        detail: { Action: 'RENEWAL' },
        account: '123456789012',
        region: 'us-east-1',
      },
    });
    expect(cli.stdout.at(-1)).toMatch(/^Renewal event .* queued \(message msg-1\)$/);
  });

  it('takes the queue from the environment, and needs one', async () => {
    const env = fakeCliEnvironment({
      fetch: http.fetch,
      clock: api.clock,
      env: { ACM_CERT_EXPORT_QUEUE_URL: 'http://sqs.test/env-q' },
    });
    expect(await runCli(['renew', '--cert-arn', certArn], env)).toBe(0);
    expect(env.sent[0]?.queueUrl).toBe('http://sqs.test/env-q');
    expect(await run('renew', '--cert-arn', certArn)).toBe(1);
    expect(cli.stderr.join('\n')).toMatch(/--queue-url/);
  });

  it('refuses something that is not a certificate ARN', () => {
    expect(() => renewalEvent('arn:aws:iam::1:role/x', { now: new Date() })).toThrow(/--cert-arn/);
  });
});
