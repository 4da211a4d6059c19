import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import packageJson from '../../../../package.json' with { type: 'json' };
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { ApiClient } from '../../../src/cli/api-client.ts';
import { displaySerial, localTime, shortId } from '../../../src/cli/display.ts';
import { stateFileAt } from '../../../src/cli/environment.ts';
import { exitCodeMeanings, exitCodes } from '../../../src/cli/errors.ts';
import { certificateDeployments } from '../../../src/cli/history-command.ts';
import { maxRemembered, statePath } from '../../../src/cli/job-ids.ts';
import { runCli } from '../../../src/cli/program.ts';
import type { Deployment, ServerResult } from '../../../src/domain/deployment.ts';
import { aMapping, certArn, principals, type TestApi, testApi } from '../api/support/harness.ts';
import { fakeSts } from '../auth/support.ts';
import { type FakeCliEnvironment, fakeCliEnvironment, injectFetch } from './support.ts';

let api: TestApi;
let cli: FakeCliEnvironment;
let http: ReturnType<typeof injectFetch>;

beforeEach(() => {
  const sts = fakeSts(principals.admin);
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

async function deploy(name = 'web'): Promise<string> {
  const before = api.queue.messages.length;
  expect(
    await run('deploy', '--cert-arn', certArn, '--name', name, '--target', 'env=dev', '--json'),
  ).toBe(0);
  const jobId = api.queue.messages[before]?.jobId;
  if (jobId === undefined) throw new Error('no job queued');
  return jobId;
}

async function advance(
  jobId: string,
  changes: Partial<Deployment>,
  servers: readonly ServerResult[] = [],
) {
  const d = await api.deployments.get(jobId);
  if (d === undefined) throw new Error(`no job ${jobId}`);
  await api.servers.recordJobResults(jobId, servers, api.clock.now());
  await api.deployments.save({ ...d, ...changes, version: d.version + 1 });
}

const installed = (instanceId: string, serial: string): ServerResult => ({
  instanceId,
  status: 'Success',
  statusDetails: 'Success',
  summary: {
    outcome: 'installed',
    serial,
    notBefore: null,
    notAfter: null,
    sha256: null,
    files: [],
    reloaded: true,
    message: `certificate ${serial} installed as web`,
  },
  updatedAt: '2027-01-01T00:00:00Z',
});

describe('--version and --help', () => {
  it('--version prints package.json’s version', async () => {
    expect(await run('--version')).toBe(0);
    expect(cli.stdout).toEqual([packageJson.version]);
  });

  it('--help lists every exit code of errors.ts with its meaning', async () => {
    expect(await run('--help')).toBe(0);
    const help = cli.stdout.join('\n');
    expect(help).toMatch(/Exit codes:/);
    for (const [name, code] of Object.entries(exitCodes)) {
      const meaning = exitCodeMeanings[name as keyof typeof exitCodes];
      expect(help).toContain(`  ${code}  ${meaning}`);
    }
  });
});

describe('times, serials and job ids in human output', () => {
  it('localTime: local time with the UTC offset, whatever the zone', () => {
    expect(localTime('2026-11-30T09:15:02Z', 'Europe/Paris')).toBe('2026-11-30 10:15:02 +01:00');
    expect(localTime('2026-07-01T09:15:02Z', 'Europe/Paris')).toBe('2026-07-01 11:15:02 +02:00');
    expect(localTime('2026-11-30T09:15:02Z', 'Asia/Kolkata')).toBe('2026-11-30 14:45:02 +05:30');
    expect(localTime('2026-11-30T09:15:02Z', 'America/New_York')).toBe(
      '2026-11-30 04:15:02 -05:00',
    );
    expect(localTime('2026-11-30T23:59:59.999Z', 'UTC')).toBe('2026-11-30 23:59:59 +00:00');
    expect(localTime('not a time', 'UTC')).toBe('not a time');
  });

  it('displaySerial: ACM’s colon-separated lower-case hex, from either form', () => {
    expect(displaySerial('0A1B2C')).toBe('0a:1b:2c');
    expect(displaySerial('0a:1b:2c')).toBe('0a:1b:2c');
    expect(displaySerial('A1B')).toBe('0a:1b');
    expect(displaySerial('00:8f:01')).toBe('8f:01');
    expect(displaySerial('0')).toBe('00');
    expect(displaySerial('not-hex')).toBe('not-hex');
  });

  it('shortId: the kind and 8 hex digits, as git shows commits', () => {
    expect(shortId(`idem-${'ab'.repeat(32)}`)).toBe('idem-abababab');
    expect(shortId(`r-${'0f'.repeat(16)}`)).toBe('r-0f0f0f0f');
    expect(shortId('6f1c2b9e-1111-4222-8333-444455556666')).toBe('6f1c2b9e');
    expect(shortId('job-00000001')).toBe('job-00000001');
  });

  it('status shows times in the environment’s zone; --json keeps the API’s ISO UTC', async () => {
    cli = fakeCliEnvironment({ fetch: http.fetch, clock: api.clock, timeZone: 'Europe/Paris' });
    api.clock.advance(Date.parse('2026-11-30T09:15:02.000Z') - api.clock.now().getTime());
    const jobId = await deploy();
    await advance(
      jobId,
      {
        status: 'Succeeded',
        certificate: {
          serial: '0a:1b',
          notBefore: '2026-11-01T00:00:00.000Z',
          notAfter: '2027-02-01T00:00:00.000Z',
        },
        counts: { target: 1, completed: 1, errors: 0, succeeded: 1, failed: 0 },
      },
      [installed('i-1', '0A1B')],
    );
    expect(await run('status', jobId)).toBe(0);
    const out = cli.stdout.at(-1) ?? '';
    expect(out).toMatch(new RegExp(`^Job ${shortId(jobId)} {2}Succeeded\\n {2}id {11}${jobId}`));
    expect(out).toContain('requested    2026-11-30 10:15:02 +01:00 by');
    expect(out).toContain('exported     serial 0a:1b, valid until 2027-02-01 01:00:00 +01:00');
    // The server's summary (openssl's 0A1B) shows in the same form, message included.
    expect(out).toMatch(
      /i-1 +Success +installed, serial 0a:1b, reloaded, certificate 0a:1b installed/,
    );
    expect(await run('status', jobId, '--json')).toBe(0);
    const json = JSON.parse(cli.stdout.at(-1) ?? '');
    expect(json.createdAt).toBe('2026-11-30T09:15:02.000Z');
    expect(json.jobId).toBe(jobId);
  });
});

describe('the request id of a 5xx', () => {
  it('is printed, the one the API returned (and logged)', async () => {
    api.queue.failures = 10;
    expect(await run(...deployArgs)).toBe(1);
    const stderr = cli.stderr.join('\n');
    const id = /request id ([0-9a-f-]{36})/.exec(stderr)?.[1];
    expect(id).toBeDefined();
    expect(stderr).toMatch(/^acm-cert-export: QUEUE_UNAVAILABLE: .*\(request id /);
    const answered = await api.call('admin', 'GET', '/v1/deployments/job-00000001');
    expect(answered.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('comes from the x-request-id header when the body has none (a proxy’s 502)', async () => {
    const client = new ApiClient({
      baseUrl: 'http://api.test',
      authorize: async () => ({}),
      sleep: async () => {},
      fetch: (async () =>
        new Response('<html>Bad Gateway</html>', {
          status: 502,
          headers: { 'x-request-id': 'req-123' },
        })) as typeof fetch,
    });
    await expect(client.request('GET', '/v1/certificates')).rejects.toThrow(
      /the API answered HTTP 502 \(request id req-123/,
    );
  });

  it('is not printed for a 4xx', async () => {
    expect(await run('status', 'job-00000000')).toBe(1);
    expect(cli.stderr.join('\n')).not.toMatch(/request id/);
  });
});

describe('history', () => {
  it('lists the certificate’s deployments newest first, short ids; --json full ids', async () => {
    const first = await deploy('web');
    api.clock.advance(60_000);
    const second = await deploy('api');
    api.clock.advance(60_000);
    const third = await deploy('web');
    expect(await run('history', certArn)).toBe(0);
    const rows = (cli.stdout.at(-1) ?? '').split('\n');
    expect(rows[0]).toMatch(/^JOB +STATUS +REQUESTED +TRIGGER +TARGET +NAME +SERVERS +SERIAL$/);
    expect(rows.slice(1).map((r) => r.split(/ +/)[0])).toEqual([third, second, first].map(shortId));
    expect(rows[2]).toMatch(/ api /);
    expect(await run('history', certArn, '--json')).toBe(0);
    expect(JSON.parse(cli.stdout.at(-1) ?? '').map((d: { jobId: string }) => d.jobId)).toEqual([
      third,
      second,
      first,
    ]);
  });

  it('--limit asks for that many', async () => {
    for (let i = 0; i < 3; i++) {
      await deploy(`site-${i}`);
      api.clock.advance(1000);
    }
    expect(await run('history', certArn, '--limit', '2')).toBe(0);
    const out = cli.stdout.at(-1) ?? '';
    expect(out.split('\n').filter((l) => /^idem-/.test(l))).toHaveLength(2);
    expect(http.requests.at(-1)?.url).toBe(
      `/v1/certificates/${encodeURIComponent(certArn)}/deployments?limit=2`,
    );
  });

  it('pages on with the cursor until --limit, and says when there are more', async () => {
    const asked: string[] = [];
    const view = (n: number) => ({ jobId: `job-0000000${n}`, createdAt: '2027-01-01T00:00:00Z' });
    const client = new ApiClient({
      baseUrl: 'http://api.test',
      authorize: async () => ({}),
      fetch: (async (url: URL) => {
        asked.push(url.search);
        const page = url.searchParams.get('cursor') === null ? [view(1), view(2)] : [view(3)];
        return Response.json({ items: page, nextCursor: 'next' });
      }) as unknown as typeof fetch,
    });
    const { items, more } = await certificateDeployments(client, certArn, 3);
    expect(items.map((d) => d.jobId)).toEqual(['job-00000001', 'job-00000002', 'job-00000003']);
    expect(more).toBe(true);
    expect(asked).toEqual(['?limit=3', '?limit=1&cursor=next']);
  });
});

describe('describe', () => {
  it('shows each mapping with what its servers hold, and the last deployments', async () => {
    const jobId = await deploy('web');
    await advance(jobId, {
      status: 'Succeeded',
      counts: { target: 2, completed: 2, errors: 0, succeeded: 2, failed: 0 },
    });
    const web = aMapping({
      serial: '0a:1b',
      notAfter: '2027-01-31T00:00:00.000Z',
      install: { certDir: '/etc/ssl/web', reloadCommand: '/usr/bin/systemctl reload nginx' },
      lastJobId: jobId,
      lastOutcome: 'Succeeded',
      lastOutcomeAt: '2027-01-01T00:00:00.000Z',
    });
    await api.mappings.put(web);
    await api.mappings.put(aMapping({ certificateArn: `${certArn}0`, certName: 'other' }));
    const held = { lastStatus: 'Success', lastJobId: jobId, updatedAt: '2027-01-01T00:00:00.000Z' };
    await api.servers.recordInstalled(web, [
      { instanceId: 'i-0aaaaaaaaaaaaaaa1', serial: '0A1B', lastOutcome: 'installed', ...held },
      { instanceId: 'i-0bbbbbbbbbbbbbbb2', serial: '0A1B', problems: ['key-mode'], ...held },
      { instanceId: 'i-0ccccccccccccccc3', serial: '09', ...held },
    ]);
    expect(await run('describe', certArn)).toBe(0);
    const out = cli.stdout.at(-1) ?? '';
    expect(out).toMatch(new RegExp(`^Certificate ${certArn}\\n {2}managed on 1 target:`));
    expect(out).not.toContain('other');
    expect(out).toContain('  web on env=dev');
    expect(out).toContain(
      'install       certDir=/etc/ssl/web, reloadCommand=/usr/bin/systemctl reload nginx',
    );
    expect(out).toContain('serial        0a:1b');
    expect(out).toMatch(/expires {7}2027-01-31 00:00:00 \+00:00 \(in \d+ days\)/);
    expect(out).toContain(
      `last outcome  Succeeded at 2027-01-01 00:00:00 +00:00, job ${shortId(jobId)}`,
    );
    expect(out).toContain('servers       1/3 converged');
    expect(out).toMatch(/SERVER +SERIAL +LAST STATUS +OUTCOME +STATE +LAST JOB/);
    expect(out).toMatch(
      new RegExp(`i-0aaaaaaaaaaaaaaa1 +0a:1b +Success +installed +converged +${shortId(jobId)}`),
    );
    expect(out).toMatch(/i-0bbbbbbbbbbbbbbb2 +0a:1b +Success +- +drift: key-mode/);
    expect(out).toMatch(/i-0ccccccccccccccc3 +09 +Success +- +behind/);
    expect(out).toMatch(/last deployments \(1\):\n +JOB .*\n +idem-[0-9a-f]{8} +Succeeded/);
    // One read of the certificate's mappings, not of every mapping.
    expect(http.requests.some((r) => r.url.startsWith('/v1/certificates?'))).toBe(false);

    expect(await run('describe', certArn, '--json')).toBe(0);
    const json = JSON.parse(cli.stdout.at(-1) ?? '');
    expect(json.certificateArn).toBe(certArn);
    expect(json.mappings).toHaveLength(1);
    expect(json.mappings[0].installedServers).toHaveLength(3);
    expect(json.deployments[0].jobId).toBe(jobId);
  });

  it('a certificate neither managed nor deployed exits 1', async () => {
    expect(await run('describe', certArn)).toBe(1);
    expect(cli.stderr.join('\n')).toMatch(/is not managed on any target and was never deployed/);
  });
});

describe('short job ids', () => {
  it('status and cancel take the prefix of a job this CLI submitted', async () => {
    const jobId = await deploy();
    expect(cli.state.get('job-ids')).toContain(jobId);
    const hex = jobId.replace(/^idem-/, '');
    expect(await run('status', hex.slice(0, 6), '--json')).toBe(0);
    expect(JSON.parse(cli.stdout.at(-1) ?? '').jobId).toBe(jobId);
    expect(await run('cancel', shortId(jobId), '--json')).toBe(0);
    expect(http.requests.at(-1)?.url).toBe(`/v1/deployments/${jobId}/cancel`);
  });

  it('an ambiguous prefix lists the candidates; an unknown one says where it looked', async () => {
    const a = `idem-abcdef01${'0'.repeat(56)}`;
    const b = `idem-abcdef02${'0'.repeat(56)}`;
    cli.state.set('job-ids', `${a}\n${b}\n`);
    expect(await run('status', 'abcdef0')).toBe(1);
    expect(cli.stderr.at(-1)).toBe(
      `acm-cert-export: job id abcdef0 is ambiguous: it starts 2 jobs (${a}, ${b}); give more of it`,
    );
    expect(await run('status', '123456')).toBe(1);
    expect(cli.stderr.at(-1)).toMatch(
      /no job starting with 123456 among the 2 this CLI has submitted or shown, nor among the 0 last jobs/,
    );
    expect(await run('status', 'abcde')).toBe(1);
    expect(cli.stderr.at(-1)).toMatch(/too short: give at least 6 hex digits/);
  });

  it('falls back on each mapping’s last job, as the API lists them', async () => {
    const jobId = `r-${'5e'.repeat(16)}`;
    await api.mappings.put(aMapping({ lastJobId: jobId }));
    expect(cli.state.get('job-ids')).toBeUndefined();
    expect(await run('status', '5e5e5e5e')).toBe(1); // found, but the fake has no such record
    expect(http.requests.at(-1)?.url).toBe(`/v1/deployments/${jobId}`);
    expect(cli.state.get('job-ids')).toContain(jobId);
  });

  it('list shows each mapping’s last job short, and remembers it', async () => {
    const jobId = `c-${'7a'.repeat(16)}`;
    await api.mappings.put(aMapping({ lastJobId: jobId, lastOutcome: 'Succeeded' }));
    expect(await run('list')).toBe(0);
    expect(cli.stdout.at(-1)).toMatch(/ Succeeded +c-7a7a7a7a +0\/0 /);
    expect(cli.state.get('job-ids')).toBe(`${jobId}\n`);
  });

  it('the state file keeps the newest ids only', async () => {
    const ids = Array.from(
      { length: maxRemembered + 5 },
      (_, i) => `idem-${i.toString(16).padStart(64, '0')}`,
    );
    cli.state.set('job-ids', `${ids.join('\n')}\n`);
    const jobId = await deploy();
    const kept = (cli.state.get('job-ids') ?? '').trim().split('\n');
    expect(kept).toHaveLength(maxRemembered);
    expect(kept[0]).toBe(jobId);
  });

  it('lives under $XDG_STATE_HOME (or ~/.local/state), written mode 600', async () => {
    expect(statePath({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }, 'job-ids')).toBe(
      '/x/state/acm-cert-export/job-ids',
    );
    expect(statePath({ XDG_STATE_HOME: 'relative', HOME: '/home/u' }, 'job-ids')).toBe(
      '/home/u/.local/state/acm-cert-export/job-ids',
    );
    expect(statePath({}, 'job-ids')).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'cli-state-'));
    const path = statePath({ XDG_STATE_HOME: dir }, 'job-ids');
    const file = stateFileAt(path);
    expect(await file.read()).toBeUndefined();
    await file.write('a\n');
    expect(readFileSync(path ?? '', 'utf8')).toBe('a\n');
    expect(statSync(path ?? '').mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'acm-cert-export')).mode & 0o777).toBe(0o700);
  });
});

describe('--wait progress', () => {
  it('on a terminal: one live line (status, servers, elapsed) redrawn every 2 s between 10-s checks', async () => {
    cli = fakeCliEnvironment({ fetch: http.fetch, clock: api.clock, tty: true });
    let sleeps = 0;
    cli.onSleep = async () => {
      sleeps += 1;
      const jobId = api.queue.messages[0]?.jobId ?? '';
      if (sleeps === 1) {
        await advance(jobId, { status: 'Running', counts: { target: 3, completed: 1, errors: 0 } });
      }
      if (sleeps === 12) {
        await advance(jobId, {
          status: 'Succeeded',
          counts: { target: 3, completed: 3, errors: 0, succeeded: 3, failed: 0 },
        });
      }
    };
    expect(await run(...deployArgs, '--wait', '--interval', '10')).toBe(0);
    const lines = cli.written.filter((w) => w.includes('elapsed'));
    // Between two checks 10 s apart, a redraw every 2 s: 5 per interval.
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines[0]).toBe('\r\x1b[2KQueued  0s elapsed');
    expect(lines).toContain('\r\x1b[2KRunning  1/3 servers done, 0 failed  12s elapsed');
    expect(lines).toContain('\r\x1b[2KRunning  1/3 servers done, 0 failed  14s elapsed');
    // The live line is cleared before the result.
    expect(cli.written.at(-1)).toBe('\r\x1b[2K');
    expect(cli.stdout.join('\n')).toMatch(/Succeeded {2}3\/3 servers done/);
  });

  it('not on a terminal: plain lines, only when something changed', async () => {
    let sleeps = 0;
    cli.onSleep = async () => {
      sleeps += 1;
      const jobId = api.queue.messages[0]?.jobId ?? '';
      if (sleeps === 3) {
        await advance(jobId, { status: 'Running', counts: { target: 3, completed: 1, errors: 0 } });
      }
      if (sleeps === 8) {
        await advance(jobId, {
          status: 'Succeeded',
          counts: { target: 3, completed: 3, errors: 0, succeeded: 3, failed: 0 },
        });
      }
    };
    expect(await run(...deployArgs, '--wait', '--interval', '10')).toBe(0);
    expect(cli.written).toEqual([]);
    const progress = cli.stdout.filter((l) => l.startsWith('['));
    expect(progress).toHaveLength(3);
    expect(progress[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00:00\] Queued$/);
    expect(progress[1]).toMatch(/\] Running {2}1\/3 servers done, 0 failed$/);
  });
});

describe('completion', () => {
  const complete = (script: string, words: string[]): string[] => {
    const program = [
      script,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_acm_cert_export',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own expansion
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    return execFileSync('bash', ['-c', program], { encoding: 'utf8' })
      .split('\n')
      .filter((w) => w !== '');
  };

  it('bash: the script is valid and offers the command tree’s commands and options', async () => {
    expect(await run('completion', 'bash')).toBe(0);
    const script = cli.stdout.join('\n');
    execFileSync('bash', ['-n', '-c', script]);
    expect(script).toContain('complete -o default -F _acm_cert_export acm-cert-export');
    const commands = complete(script, ['acm-cert-export', '']);
    for (const name of [
      'deploy',
      'status',
      'history',
      'describe',
      'cancel',
      'reconcile',
      'completion',
    ]) {
      expect(commands).toContain(name);
    }
    expect(commands).toContain('--endpoint');
    expect(complete(script, ['acm-cert-export', 'de'])).toEqual(['deploy', 'describe']);
    expect(complete(script, ['acm-cert-export', 'deploy', '--ce'])).toEqual([
      '--cert-arn',
      '--cert-dir',
    ]);
    // A global option's value is not taken for the command.
    expect(
      complete(script, ['acm-cert-export', '--endpoint', 'http://x', 'status', '--w']),
    ).toEqual(['--wait']);
    expect(complete(script, ['acm-cert-export', 'completion', ''])).toEqual(
      expect.arrayContaining(['bash', 'zsh', 'fish']),
    );
    // After an option that takes a value: nothing of ours (bash offers file names).
    expect(complete(script, ['acm-cert-export', 'deploy', '--cert-arn', ''])).toEqual([]);
  });

  it('zsh loads the bash script through bashcompinit; fish gets one line per command and option', async () => {
    expect(await run('completion', 'zsh')).toBe(0);
    expect(cli.stdout.at(-1)).toMatch(
      /^#compdef acm-cert-export\n[\s\S]*bashcompinit[\s\S]*complete -o default -F/,
    );
    expect(await run('completion', 'fish')).toBe(0);
    const fish = cli.stdout.at(-1) ?? '';
    expect(fish).toContain("complete -c acm-cert-export -n '__fish_use_subcommand' -a history");
    expect(fish).toContain(
      "complete -c acm-cert-export -n '__fish_seen_subcommand_from deploy' -l cert-arn -r",
    );
    expect(await run('completion', 'tcsh')).toBe(1);
  });
});
