import { afterEach, describe, expect, it } from 'vitest';
import { TerminalError } from '../../../src/domain/errors.ts';
import {
  aDeployment,
  aMapping,
  certArn,
  type TestApi,
  testApi,
  v1Body,
} from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

const bundle = { certificate: 'x', chain: 'y', encryptedPrivateKey: undefined as never };

/** Three nodes tagged env=dev (one offline, one with an old agent) and one tagged env=prod. */
function fleet(a: TestApi) {
  const nodes: [string, string, string][] = [
    ['i-0aaaaaaaaaaaaaaa1', 'Online', '3.3.2957.0'],
    ['mi-0bbbbbbbbbbbbbbb2', 'ConnectionLost', '3.3.2957.0'],
    ['i-0ccccccccccccccc3', 'Online', '3.2.582.0'],
    ['i-0ddddddddddddddd4', 'Online', '3.3.2957.0'],
  ];
  for (const [instanceId, pingStatus, agentVersion] of nodes) {
    a.commands.nodes.set(instanceId, { instanceId, pingStatus, agentVersion });
  }
  for (const id of ['i-0aaaaaaaaaaaaaaa1', 'mi-0bbbbbbbbbbbbbbb2', 'i-0ccccccccccccccc3']) {
    a.commands.tag(id, { env: 'dev' });
  }
  a.commands.tag('i-0ddddddddddddddd4', { env: 'prod' });
}

describe('POST /v1/deployments/dry-run', () => {
  it('lists the servers the tag reaches with their agents and the serial each holds; writes nothing', async () => {
    api = testApi();
    fleet(api);
    api.certificates.add(
      { arn: certArn, serial: '0a:0b', notAfter: new Date('2027-01-01') },
      bundle,
    );
    await api.mappings.put(aMapping({ lastJobId: 'job-last-0001' }));
    await api.deployments.create(aDeployment({ jobId: 'job-last-0001', status: 'Succeeded' }));
    await api.servers.recordInstalled(
      { target: { key: 'env', value: 'dev' }, certificateArn: certArn, certName: 'web' },
      [
        {
          instanceId: 'i-0aaaaaaaaaaaaaaa1',
          serial: '09',
          lastStatus: 'Success',
          lastOutcome: 'installed',
          lastJobId: 'job-last-0001',
          updatedAt: '2026-11-26T00:00:00.000Z',
        },
      ],
    );
    const deploymentsBefore = api.deployments.records.size;

    const res = await api.call('admin', 'POST', '/v1/deployments/dry-run', v1Body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      dryRun: true,
      certificate: {
        arn: certArn,
        status: 'ISSUED',
        type: 'PRIVATE',
        exportable: true,
        serial: '0a:0b',
        notAfter: '2027-01-01T00:00:00.000Z',
      },
      target: { key: 'env', value: 'dev' },
      certName: 'web',
      wouldDeploy: true,
      servers: [
        {
          instanceId: 'i-0aaaaaaaaaaaaaaa1',
          pingStatus: 'Online',
          agentVersion: '3.3.2957.0',
          agentSupported: true,
          installedSerial: '09',
          wouldInstall: true,
        },
        {
          instanceId: 'i-0ccccccccccccccc3',
          pingStatus: 'Online',
          agentVersion: '3.2.582.0',
          agentSupported: false,
          wouldInstall: false,
        },
        {
          instanceId: 'mi-0bbbbbbbbbbbbbbb2',
          pingStatus: 'ConnectionLost',
          agentVersion: '3.3.2957.0',
          agentSupported: true,
          wouldInstall: false,
        },
      ],
      problems: [
        'i-0ccccccccccccccc3: SSM Agent 3.2.582.0 is older than 3.3.2746.0, which the install document needs',
        'mi-0bbbbbbbbbbbbbbb2: its agent is ConnectionLost; Run Command would not reach it',
      ],
    });
    expect(api.queue.messages).toEqual([]);
    expect(api.deployments.records.size).toBe(deploymentsBefore);
    expect(api.certificates.exports).toEqual([]);
    expect(api.commands.sent).toEqual([]);
  });

  it.each([
    [
      'a certificate ACM will not export',
      (a: TestApi) =>
        a.certificates.add({ arn: certArn, type: 'AMAZON_ISSUED', exportable: false }, bundle),
      /AMAZON_ISSUED and ACM will not export it/,
    ],
    [
      'a certificate not issued yet',
      (a: TestApi) => a.certificates.add({ arn: certArn, status: 'PENDING_VALIDATION' }, bundle),
      /PENDING_VALIDATION, not ISSUED/,
    ],
    ['a certificate that does not exist', () => undefined, /does not exist/],
  ])('says it would not deploy %s', async (_what, arrange, problem) => {
    api = testApi();
    fleet(api);
    arrange(api);
    const res = await api.call('admin', 'POST', '/v1/deployments/dry-run', v1Body);
    expect(res.statusCode).toBe(200);
    expect(res.json().wouldDeploy).toBe(false);
    expect(res.json().problems[0]).toMatch(problem);
    expect(res.json().servers.every((s: { wouldInstall: boolean }) => !s.wouldInstall)).toBe(true);
  });

  it('says a tag no server carries would end NoTargets', async () => {
    api = testApi();
    api.certificates.add({ arn: certArn }, bundle);
    const res = await api.call('admin', 'POST', '/v1/deployments/dry-run', {
      ...v1Body,
      target: { key: 'env', value: 'nowhere' },
    });
    expect(res.json().servers).toEqual([]);
    expect(res.json().problems).toEqual([
      'no managed node carries env=nowhere: the deployment would end NoTargets',
    ]);
  });

  it('refuses what a deployment would refuse, before asking AWS anything', async () => {
    api = testApi();
    api.certificates.failNext = [new Error('must not be called')];
    const policy = await api.call('admin', 'POST', '/v1/deployments/dry-run', {
      ...v1Body,
      target: { key: 'role', value: 'web' },
    });
    expect(policy.statusCode).toBe(400);
    expect(policy.json().error.details[0].field).toBe('/target/key');
    const target = await api.call('ci', 'POST', '/v1/deployments/dry-run', {
      ...v1Body,
      target: { key: 'env', value: 'prod' },
    });
    expect(target.statusCode).toBe(403);
    const reader = await api.call('reader', 'POST', '/v1/deployments/dry-run', v1Body);
    expect(reader.statusCode).toBe(403);
    expect(api.certificates.failNext).toHaveLength(1);
  });

  it('answers 503 when ACM cannot be asked (not a plan with a made-up status)', async () => {
    api = testApi();
    api.certificates.failNext = [new Error('ThrottlingException')];
    const res = await api.call('admin', 'POST', '/v1/deployments/dry-run', v1Body);
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
    api.certificates.failNext = [new TerminalError('AccessDenied', 'not allowed to describe it')];
    const denied = await api.call('admin', 'POST', '/v1/deployments/dry-run', v1Body);
    expect(denied.statusCode).toBe(200);
    expect(denied.json().problems).toContain('not allowed to describe it');
  });
});
