import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stsAuthenticator } from '../../../src/auth/sts-authenticator.ts';
import { parseMessage } from '../../../src/messages/parse-message.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { testClients } from '../../support/aws.ts';
import { motoEndpoint } from '../../support/bed-lane.ts';
import { anIamUser, type IamUser } from '../../support/builders/iam-users.ts';
import { aMapping, certArn, type TestApi, testApi } from '../../unit/api/support/harness.ts';

/**
 * The `acm-cert-export` binary, run as a child process with the standard AWS credential
 * variables, against the app listening on loopback (STS on the emulator, the other ports
 * in memory; a test stands in for the worker by moving records along). The full end-to-end
 * run through the worker to files on the stand-in servers lives with the worker's tests.
 */

const endpoint = motoEndpoint();
const main = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const account = '123456789012';

let api: TestApi;
let baseUrl: string;
let alice: IamUser;
let bob: IamUser;

beforeAll(async () => {
  const { iam } = testClients();
  alice = await anIamUser(iam, { userName: 'alice-cli' });
  bob = await anIamUser(iam, { userName: 'bob-cli' });
  const auth = {
    mode: 'sts' as const,
    audience: 'certs-test',
    stsEndpoint: endpoint,
    maxTokenAgeSeconds: 300,
    principals: [
      {
        principal: alice.arn,
        actions: ['read' as const, 'deploy' as const, 'install-options' as const],
        targets: ['env=dev'],
      },
      { principal: bob.arn, actions: ['read' as const], targets: [] },
    ],
  };
  api = testApi({
    config: { auth },
    authenticator: stsAuthenticator({ ...auth, clock: systemClock }),
  });
  baseUrl = await api.app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await api?.app.close();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface CliRun {
  readonly done: Promise<Run>;
  /** Resolves once the CLI has written `pattern` to stdout; fails if it exits first. */
  printed(pattern: RegExp): Promise<void>;
}

/** Variables added to the CLI's environment by the next runs (state directory, time zone). */
let extraEnv: Record<string, string> = {};

function startCli(user: IamUser, ...args: string[]): CliRun {
  let stdout = '';
  let exited = false;
  let child: ReturnType<typeof execFile> | undefined;
  const done = new Promise<Run>((resolve) => {
    child = execFile(
      process.execPath,
      [main, ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: '/nonexistent',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: user.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: user.credentials.secretAccessKey,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_ENDPOINT_URL: endpoint,
          ACM_CERT_EXPORT_URL: baseUrl,
          ACM_CERT_EXPORT_AUDIENCE: 'certs-test',
          ...extraEnv,
        },
        timeout: 30_000,
      },
      (error, out, err) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        exited = true;
        resolve({ code, stdout: out, stderr: err });
      },
    );
  });
  child?.stdout?.on('data', (chunk: Buffer | string) => {
    stdout += String(chunk);
  });
  return {
    done,
    async printed(pattern) {
      while (!pattern.test(stdout)) {
        if (exited) throw new Error(`the CLI exited without printing ${pattern}:\n${stdout}`);
        await sleep(20);
      }
    },
  };
}

function cli(user: IamUser, ...args: string[]): Promise<Run> {
  return startCli(user, ...args).done;
}

/**
 * Stands in for the worker: moves the next job to Running, and on to `final` once `shown`
 * resolves (the CLI has shown Running; by default at once).
 */
async function workOnNextJob(
  final: 'Succeeded' | 'Failed',
  shown: () => Promise<void> = async () => {},
): Promise<void> {
  const seen = api.queue.messages.length;
  const deadline = Date.now() + 30_000;
  while (api.queue.messages[seen]?.jobId === undefined) {
    if (Date.now() > deadline) throw new Error('the CLI never queued a job');
    await sleep(50);
  }
  const jobId = api.queue.messages[seen]?.jobId as string;
  const d = await api.deployments.get(jobId);
  if (d === undefined) throw new Error(`no record for ${jobId}`);
  const running = await api.deployments.save({
    ...d,
    status: 'Running',
    version: d.version + 1,
    counts: { target: 1, completed: 0, errors: 0 },
  });
  await shown();
  // As the worker ends a job: the per-server results first, then the record's terminal status.
  await api.servers.recordJobResults(
    jobId,
    [
      {
        instanceId: 'i-0abc',
        status: final === 'Failed' ? 'Failed' : 'Success',
        statusDetails: final === 'Failed' ? 'Failed' : 'Success',
        ...(final === 'Failed' ? { error: 'reload command failed' } : {}),
        updatedAt: 'later',
      },
    ],
    new Date('2027-01-01T00:00:00Z'),
  );
  await api.deployments.save({
    ...running,
    status: final,
    version: running.version + 1,
    counts: {
      target: 1,
      completed: 1,
      errors: final === 'Failed' ? 1 : 0,
      succeeded: final === 'Failed' ? 0 : 1,
      failed: final === 'Failed' ? 1 : 0,
    },
    ...(final === 'Failed' ? { reason: '1 of 1 servers failed' } : {}),
  });
}

describe('acm-cert-export (child process, standard credential chain)', () => {
  it('deploy --wait follows the job to Succeeded: exit 0', async () => {
    // Running lasts until the CLI has shown it, however long its checks take on a busy machine.
    const runningLine = /Running {2}0\/1 servers done/;
    const following = startCli(
      alice,
      'deploy',
      '--cert-arn',
      certArn,
      '--name',
      'web',
      '--target',
      'env=dev',
      '--reload-command',
      '/usr/sbin/nginx -s reload',
      '--wait',
      '--interval',
      '0.2',
    );
    // Called in the same turn as startCli: the CLI cannot have queued its job yet.
    const worker = workOnNextJob('Succeeded', () => following.printed(runningLine));
    const run = await following.done;
    await worker;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(runningLine);
    expect(run.stdout).toMatch(/i-0abc +Success/);
    expect(run.stdout).toMatch(/Job \S+ {2}Succeeded/);
    expect(api.queue.messages.at(-1)).toMatchObject({
      requester: `arn:aws:iam::${account}:user/alice-cli`,
      install: { reloadCommand: '/usr/sbin/nginx -s reload' },
    });
  });

  it('deploy --wait --json exits 2 when the job fails, printing the record', async () => {
    const worker = workOnNextJob('Failed');
    const run = await cli(
      alice,
      'deploy',
      '--cert-arn',
      certArn,
      '--name',
      'web',
      '--target',
      'env=dev',
      '--wait',
      '--json',
      '--interval',
      '0.2',
    );
    await worker;
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'Failed',
      reason: '1 of 1 servers failed',
      servers: [{ instanceId: 'i-0abc', error: 'reload command failed' }],
    });
    const status = await cli(bob, 'status', JSON.parse(run.stdout).jobId);
    expect(status.code).toBe(2);
    expect(status.stdout).toMatch(/reason +1 of 1 servers failed/);
  });

  it('a principal without deploy rights gets exit 1 and the API’s reason', async () => {
    const run = await cli(
      bob,
      'deploy',
      '--cert-arn',
      certArn,
      '--name',
      'web',
      '--target',
      'env=dev',
    );
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `acm-cert-export: FORBIDDEN: arn:aws:iam::${account}:user/bob-cli is not allowed to deploy`,
    );
  });

  it('list prints the managed certificates', async () => {
    await api.mappings.put(aMapping({ certName: 'shop', notAfter: '2099-01-01T00:00:00.000Z' }));
    const run = await cli(bob, 'list', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([expect.objectContaining({ certName: 'shop' })]);
  });

  it('token prints a header value curl can use', async () => {
    const run = await cli(bob, 'token');
    expect(run.code).toBe(0);
    const res = await fetch(`${baseUrl}/v1/certificates`, {
      headers: { authorization: run.stdout.trim() },
    });
    expect(res.status).toBe(200);
  });

  it('renew puts an ACM RENEWAL event on the queue', async () => {
    const { sqs } = testClients();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'cli-renew-test' }));
    const run = await cli(alice, 'renew', '--cert-arn', certArn, '--queue-url', QueueUrl ?? '');
    expect(run.code).toBe(0);
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
    );
    expect(parseMessage(Messages?.[0]?.Body ?? '')).toMatchObject({
      kind: 'acm-event',
      event: { resources: [certArn], detail: { Action: 'RENEWAL' } },
    });
  });

  it('history, describe, a short job id across runs (the state file), local times, a 5xx’s request id', async () => {
    const state = mkdtempSync(join(tmpdir(), 'cli-state-'));
    extraEnv = { XDG_STATE_HOME: state, TZ: 'Asia/Kolkata' };
    try {
      const deployed = await cli(
        alice,
        'deploy',
        '--cert-arn',
        certArn,
        '--name',
        'history',
        '--target',
        'env=dev',
      );
      expect(deployed.stderr).toBe('');
      const short = /^Job (idem-[0-9a-f]{8}) Queued/.exec(deployed.stdout)?.[1];
      expect(short).toBeDefined();
      const file = join(state, 'acm-cert-export', 'job-ids');
      const jobId = readFileSync(file, 'utf8').split('\n')[0] ?? '';
      expect(jobId.startsWith(short ?? '-')).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);

      const status = await cli(bob, 'status', short ?? '');
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`  id           ${jobId}`);
      expect(status.stdout).toMatch(/requested {4}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 by/);

      const history = await cli(bob, 'history', certArn);
      expect(history.code).toBe(0);
      expect(history.stdout).toMatch(
        new RegExp(`^${short} +Queued +.* \\+05:30 +api +env=dev +history`, 'm'),
      );

      const described = await cli(bob, 'describe', certArn, '--json');
      expect(described.code).toBe(0);
      expect(
        JSON.parse(described.stdout).deployments.map((d: { jobId: string }) => d.jobId),
      ).toContain(jobId);

      const completion = await cli(bob, 'completion', 'bash');
      expect(completion.code).toBe(0);
      expect(completion.stdout).toMatch(/ history\)/);

      api.queue.failures = 10;
      const failed = await cli(
        alice,
        'deploy',
        '--cert-arn',
        certArn,
        '--name',
        'x',
        '--target',
        'env=dev',
      );
      api.queue.failures = 0;
      expect(failed.code).toBe(1);
      const requestId = /request id ([0-9a-f-]{36})/.exec(failed.stderr)?.[1];
      expect(requestId).toBeDefined();
      // The operator finds the API's log line by it.
      expect(
        api.logs.some((line) => line.includes(requestId ?? '-') && line.includes('QUEUE')),
      ).toBe(true);
    } finally {
      extraEnv = {};
    }
  });
});
