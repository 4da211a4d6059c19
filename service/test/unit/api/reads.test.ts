import { afterEach, describe, expect, it } from 'vitest';
import { TerminalError } from '../../../src/domain/errors.ts';
import { exportSecretName } from '../../../src/domain/export-secret-name.ts';
import type { InstalledServer } from '../../../src/domain/installed-server.ts';
import {
  aDeployment,
  aMapping,
  certArn,
  otherCertArn,
  principals,
  type TestApi,
  testApi,
} from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

const enc = encodeURIComponent;

describe('GET /v1/deployments/:id', () => {
  it('shows status, conditions and per-server results, and no secret ids', async () => {
    api = testApi();
    await api.deployments.create(
      aDeployment({
        jobId: 'job-12345678',
        status: 'PartiallyFailed',
        reason: '1 of 2 servers failed',
        secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:acm-passphrase/x',
        secretVersionId: 'v1',
        conditions: [
          {
            type: 'Exported',
            status: 'True',
            reason: 'Exported',
            message: 'serial 01',
            lastTransitionTime: '2026-11-26T00:00:01.000Z',
          },
        ],
        counts: { target: 2, completed: 2, errors: 1 },
      }),
    );
    await api.servers.recordJobResults(
      'job-12345678',
      [
        {
          instanceId: 'i-1',
          status: 'Success',
          statusDetails: 'Success',
          responseCode: 0,
          summary: {
            outcome: 'installed',
            serial: '01',
            notBefore: null,
            notAfter: null,
            sha256: null,
            files: ['/etc/ssl/web.pem'],
            reloaded: true,
          },
          updatedAt: '2026-11-26T00:00:02.000Z',
        },
        {
          instanceId: 'i-2',
          status: 'Failed',
          statusDetails: 'Failed',
          responseCode: 1,
          error: 'nginx: config test failed',
          updatedAt: '2026-11-26T00:00:02.000Z',
        },
      ],
      new Date('2027-01-01T00:00:00Z'),
    );
    const res = await api.call('reader', 'GET', '/v1/deployments/job-12345678');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      jobId: 'job-12345678',
      status: 'PartiallyFailed',
      reason: '1 of 2 servers failed',
      certificateArn: certArn,
      target: { key: 'env', value: 'dev' },
      requester: principals.admin,
      conditions: [{ type: 'Exported', status: 'True' }],
      servers: [
        { instanceId: 'i-1', summary: { outcome: 'installed', files: ['/etc/ssl/web.pem'] } },
        { instanceId: 'i-2', error: 'nginx: config test failed' },
      ],
      counts: { target: 2, completed: 2, errors: 1 },
    });
    expect(res.body).not.toContain('secretsmanager');
    expect(body.secretVersionId).toBeUndefined();
  });

  it('pages the per-server results of a large job: 100 in the view, the rest through /servers', async () => {
    api = testApi();
    await api.deployments.create(aDeployment({ jobId: 'job-22222222', status: 'Succeeded' }));
    const ids = Array.from({ length: 250 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    await api.servers.recordJobResults(
      'job-22222222',
      ids.map((instanceId) => ({
        instanceId,
        status: 'Success',
        statusDetails: 'Success',
        updatedAt: '2026-11-26T00:00:02.000Z',
      })),
      new Date('2027-01-01T00:00:00Z'),
    );
    const view = (await api.call('reader', 'GET', '/v1/deployments/job-22222222')).json();
    expect(view.servers).toHaveLength(100);
    expect(view.serversNextCursor).toEqual(expect.any(String));
    const seen: string[] = view.servers.map((s: { instanceId: string }) => s.instanceId);
    let cursor: string | undefined = view.serversNextCursor;
    while (cursor !== undefined) {
      const res = await api.call(
        'reader',
        'GET',
        `/v1/deployments/job-22222222/servers?limit=100&cursor=${enc(cursor)}`,
      );
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().items.map((s: { instanceId: string }) => s.instanceId));
      cursor = res.json().nextCursor;
    }
    expect(seen).toEqual(ids);
    // As GET /v1/deployments/{id}: deploy on the job's target (env=dev) is enough, nothing less.
    expect((await api.call('ci', 'GET', '/v1/deployments/job-22222222/servers')).statusCode).toBe(
      200,
    );
    expect(
      (await api.call('nobody', 'GET', '/v1/deployments/job-22222222/servers')).statusCode,
    ).toBe(403);
    const bad = await api.call('reader', 'GET', '/v1/deployments/job-22222222/servers?cursor=zz');
    expect(bad.statusCode).toBe(400);
    const missing = await api.call('reader', 'GET', '/v1/deployments/job-00000000/servers');
    expect(missing.statusCode).toBe(404);
  });

  it('404 DEPLOYMENT_NOT_FOUND for an unknown id; 400 for a malformed one', async () => {
    api = testApi();
    const missing = await api.call('reader', 'GET', '/v1/deployments/job-00000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('DEPLOYMENT_NOT_FOUND');
    const bad = await api.call('reader', 'GET', '/v1/deployments/x');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ in: 'params', field: '/id' });
  });

  it('lets a deploy-only principal follow jobs on its targets, not on others', async () => {
    api = testApi();
    await api.deployments.create(aDeployment({ jobId: 'job-dev-0001' }));
    await api.deployments.create(
      aDeployment({
        jobId: 'job-prod-001',
        job: { ...aDeployment().job, jobId: 'job-prod-001', target: { key: 'env', value: 'prod' } },
      }),
    );
    expect((await api.call('ci', 'GET', '/v1/deployments/job-dev-0001')).statusCode).toBe(200);
    const prod = await api.call('ci', 'GET', '/v1/deployments/job-prod-001');
    expect(prod.statusCode).toBe(403);
    expect(prod.json().error.code).toBe('FORBIDDEN');
  });

  it('503 DEPENDENCY_UNAVAILABLE when the table fails, without the cause', async () => {
    api = testApi();
    api.deployments.get = async () => {
      throw new Error('ProvisionedThroughputExceededException: table CertDeployments');
    };
    const res = await api.call('reader', 'GET', '/v1/deployments/job-00000001');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(res.body).not.toContain('CertDeployments');
  });

  it('500 INTERNAL_ERROR with a request id for a terminal adapter error, nothing leaked', async () => {
    api = testApi();
    api.deployments.get = async () => {
      throw new TerminalError('AccessDenied', 'User arn:aws:iam::123:role/x is not authorized');
    };
    const res = await api.call('reader', 'GET', '/v1/deployments/job-00000001');
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'internal error; quote the request id when reporting it',
      requestId: res.headers['x-request-id'],
    });
    expect(res.body).not.toContain('arn:aws:iam');
  });
});

describe('GET /v1/certificates', () => {
  it('lists mappings with days to expiry at the injected time, paginated', async () => {
    api = testApi();
    await api.mappings.put(
      aMapping({
        certName: 'a',
        serial: '0a',
        notAfter: '2026-12-27T12:00:00.000Z',
        lastOutcome: 'Succeeded',
        lastJobId: 'job-1',
      }),
    );
    await api.mappings.put(aMapping({ certName: 'b', notAfter: '2026-11-20T00:00:00.000Z' }));
    await api.mappings.put(aMapping({ certName: 'c' }));
    const first = await api.call('reader', 'GET', '/v1/certificates?limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.items).toEqual([
      {
        certificateArn: certArn,
        certName: 'a',
        target: { key: 'env', value: 'dev' },
        install: {},
        serial: '0a',
        notAfter: '2026-12-27T12:00:00.000Z',
        daysToExpiry: 30,
        lastJobId: 'job-1',
        lastOutcome: 'Succeeded',
        servers: { converged: 0, total: 0 },
      },
      expect.objectContaining({ certName: 'b', daysToExpiry: -7 }),
    ]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const second = await api.call(
      'reader',
      'GET',
      `/v1/certificates?limit=2&cursor=${enc(page1.nextCursor)}`,
    );
    expect(second.json()).toEqual({
      items: [expect.objectContaining({ certName: 'c', daysToExpiry: null })],
    });
  });

  it('counts the servers converged on each mapping’s serial out of those its jobs reached', async () => {
    api = testApi();
    const a = aMapping({ certName: 'a', serial: '0A' });
    const b = aMapping({ certName: 'b' });
    await api.mappings.put(a);
    await api.mappings.put(b);
    const server = (instanceId: string, more: Partial<InstalledServer>): InstalledServer => ({
      instanceId,
      lastStatus: 'Success',
      lastJobId: 'job-1',
      updatedAt: '2026-11-26T00:00:00.000Z',
      ...more,
    });
    await api.servers.recordInstalled(a, [
      server('i-1', { serial: '0a' }),
      server('i-2', { serial: '0a', lastStatus: 'Failed' }),
      server('i-3', { serial: '09' }),
      server('i-4', { serial: '0a', problems: ['key-mode'] }),
      server('i-5', {}),
      server('i-6', { serial: '0A' }),
    ]);
    await api.servers.recordInstalled(b, [server('i-1', { serial: '0a' })]);
    const res = await api.call('reader', 'GET', '/v1/certificates');
    const items = res.json().items as { certName: string; servers: unknown }[];
    expect(items.map((i) => [i.certName, i.servers])).toEqual([
      ['a', { converged: 2, total: 6 }],
      // Never exported: nothing to converge on.
      ['b', { converged: 0, total: 1 }],
    ]);
  });

  it('503 DEPENDENCY_UNAVAILABLE when the servers table cannot be read', async () => {
    api = testApi();
    await api.mappings.put(aMapping());
    api.servers.installed = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    const res = await api.call('reader', 'GET', '/v1/certificates');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
  });

  it('400 INVALID_CURSOR when the store does not recognise the cursor', async () => {
    api = testApi();
    api.mappings.list = async () => {
      throw new TerminalError('InvalidCursor', 'bad cursor');
    };
    const res = await api.call('reader', 'GET', '/v1/certificates?cursor=zzz');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_CURSOR');
  });

  it('is refused to a deploy-only principal', async () => {
    api = testApi();
    expect((await api.call('ci', 'GET', '/v1/certificates')).statusCode).toBe(403);
  });
});

describe('GET /v1/certificates/:arn/deployments', () => {
  it('takes the URL-encoded ARN and lists that certificate’s deployments, newest first', async () => {
    api = testApi();
    await api.deployments.create(
      aDeployment({ jobId: 'job-old-0001', createdAt: '2026-11-01T00:00:00Z' }),
    );
    await api.deployments.create(
      aDeployment({ jobId: 'job-new-0001', createdAt: '2026-11-02T00:00:00Z' }),
    );
    await api.deployments.create(
      aDeployment({
        jobId: 'job-other-01',
        job: { ...aDeployment().job, jobId: 'job-other-01', certificateArn: otherCertArn },
      }),
    );
    const res = await api.call('reader', 'GET', `/v1/certificates/${enc(certArn)}/deployments`);
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((d: { jobId: string }) => d.jobId)).toEqual([
      'job-new-0001',
      'job-old-0001',
    ]);
  });

  it('400 for something that is not a certificate ARN', async () => {
    api = testApi();
    const res = await api.call('reader', 'GET', '/v1/certificates/not-an-arn/deployments');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0]).toMatchObject({ in: 'params', field: '/arn' });
  });
});

describe('GET /v1/certificates/:arn/targets', () => {
  const server = (instanceId: string, more: Partial<InstalledServer>): InstalledServer => ({
    instanceId,
    lastStatus: 'Success',
    lastJobId: 'job-1',
    updatedAt: '2026-11-26T00:00:00.000Z',
    ...more,
  });

  it('lists that certificate’s mappings by target and name, each with what its servers hold', async () => {
    api = testApi();
    const web = aMapping({ certName: 'web', serial: '0a', notAfter: '2027-01-01T00:00:00.000Z' });
    const api2 = aMapping({ certName: 'api', target: { key: 'env', value: 'prod' } });
    await api.mappings.put(web);
    await api.mappings.put(api2);
    await api.mappings.put(aMapping({ certificateArn: otherCertArn, certName: 'other' }));
    await api.servers.recordInstalled(web, [
      server('i-2', { serial: '0A', lastOutcome: 'installed' }),
      server('i-1', {
        serial: '0a',
        problems: ['key-mode'],
        verifiedAt: '2026-11-27T00:00:00.000Z',
      }),
    ]);
    const res = await api.call('reader', 'GET', `/v1/certificates/${enc(certArn)}/targets`);
    expect(res.statusCode).toBe(200);
    const items = res.json().items;
    expect(items.map((i: { certName: string }) => i.certName)).toEqual(['web', 'api']);
    expect(items[0]).toMatchObject({
      certificateArn: certArn,
      target: { key: 'env', value: 'dev' },
      serial: '0a',
      servers: { converged: 1, total: 2 },
      installedServers: [
        {
          instanceId: 'i-1',
          serial: '0a',
          problems: ['key-mode'],
          verifiedAt: '2026-11-27T00:00:00.000Z',
          converged: false,
        },
        { instanceId: 'i-2', serial: '0A', lastOutcome: 'installed', converged: true },
      ],
    });
    expect(items[0].daysToExpiry).toBeTypeOf('number');
    expect(items[1]).toMatchObject({ certName: 'api', installedServers: [] });
  });

  it('an unmanaged certificate has no items; a malformed ARN is 400; deploy-only is 403', async () => {
    api = testApi();
    const res = await api.call('reader', 'GET', `/v1/certificates/${enc(certArn)}/targets`);
    expect(res.json()).toEqual({ items: [] });
    expect((await api.call('reader', 'GET', '/v1/certificates/nope/targets')).statusCode).toBe(400);
    expect(
      (await api.call('ci', 'GET', `/v1/certificates/${enc(certArn)}/targets`)).statusCode,
    ).toBe(403);
  });

  it('503 DEPENDENCY_UNAVAILABLE when the servers table cannot be read', async () => {
    api = testApi();
    await api.mappings.put(aMapping());
    api.servers.installed = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    const res = await api.call('reader', 'GET', `/v1/certificates/${enc(certArn)}/targets`);
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
  });
});

describe('DELETE /v1/certificates/:arn/targets/:key/:value/:certName', () => {
  const url = (arn = certArn, key = 'env', value = 'dev', name = 'web') =>
    `/v1/certificates/${enc(arn)}/targets/${enc(key)}/${enc(value)}/${enc(name)}`;

  it('schedules the secret for deletion, then removes the mapping', async () => {
    api = testApi();
    const secretArn =
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:acm-passphrase/x-AbCdEf';
    await api.mappings.put(aMapping({ secretArn }));
    const res = await api.call('admin', 'DELETE', url());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      certificateArn: certArn,
      certName: 'web',
      target: { key: 'env', value: 'dev' },
      secretArn,
      secretDeletion: 'scheduled',
      recoveryWindowDays: 7,
    });
    expect(api.passphrases.scheduled).toEqual([{ secretId: secretArn, days: 7 }]);
    expect(api.mappings.items.size).toBe(0);
    const again = await api.call('admin', 'DELETE', url());
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('MAPPING_NOT_FOUND');
  });

  it('finds by its name the secret of a mapping that never recorded one', async () => {
    api = testApi();
    // A first deployment that stopped before its end stored a version but recorded nothing.
    const name = exportSecretName('acm-passphrase/', {
      target: { key: 'env', value: 'dev' },
      certificateArn: certArn,
      certName: 'web',
    });
    api.passphrases.existing.add(name);
    await api.mappings.put(aMapping({}));
    const res = await api.call('admin', 'DELETE', url());
    expect(res.statusCode).toBe(200);
    expect(res.json().secretDeletion).toBe('scheduled');
    expect(res.json().secretArn).toBeUndefined();
    expect(api.passphrases.scheduled).toEqual([{ secretId: name, days: 7 }]);
    expect(api.mappings.items.size).toBe(0);
  });

  it('handles tag values with slashes and spaces (URL-encoded)', async () => {
    api = testApi();
    await api.mappings.put(aMapping({ target: { key: 'app/tier', value: 'web front' } }));
    const res = await api.call('admin', 'DELETE', url(certArn, 'app/tier', 'web front'));
    expect(res.statusCode).toBe(200);
    expect(res.json().secretDeletion).toBe('none');
  });

  it('keeps the mapping when the secret cannot be scheduled (retry finishes the job)', async () => {
    api = testApi();
    await api.mappings.put(aMapping({ secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x' }));
    api.passphrases.scheduleDeletion = async () => {
      throw new Error('throttled');
    };
    const res = await api.call('admin', 'DELETE', url());
    expect(res.statusCode).toBe(503);
    expect(api.mappings.items.size).toBe(1);
  });

  it('409 MAPPING_BUSY while a job holds the mapping, naming it; nothing changes', async () => {
    api = testApi();
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:acm-passphrase/x-1';
    await api.mappings.put(aMapping({ secretArn }));
    const key = { target: { key: 'env', value: 'dev' }, certificateArn: certArn, certName: 'web' };
    const now = api.clock.now();
    const until = new Date(now.getTime() + 600_000);
    expect((await api.mappings.acquireLock(key, 'job-running-1', until, now)).acquired).toBe(true);
    const res = await api.call('admin', 'DELETE', url());
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('MAPPING_BUSY');
    expect(res.json().error.message).toContain('deployment job-running-1');
    expect(api.passphrases.scheduled).toEqual([]);
    expect(api.mappings.items.size).toBe(1);
    // Once the job has ended (its lock released), the same request goes through.
    await api.mappings.releaseLock(key, 'job-running-1');
    expect((await api.call('admin', 'DELETE', url())).statusCode).toBe(200);
  });

  it('409 when a job takes the lock between the read and the delete (one conditional write)', async () => {
    api = testApi();
    await api.mappings.put(aMapping());
    const key = { target: { key: 'env', value: 'dev' }, certificateArn: certArn, certName: 'web' };
    const get = api.mappings.get.bind(api.mappings);
    api.mappings.get = async (k) => {
      const read = await get(k);
      const now = api.clock.now();
      await api.mappings.acquireLock(key, 'job-racing-1', new Date(now.getTime() + 60_000), now);
      return read;
    };
    const res = await api.call('admin', 'DELETE', url());
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toContain('job-racing-1');
    expect(api.mappings.items.size).toBe(1);
  });

  it('goes ahead over a lock whose lease has ended (its job is gone)', async () => {
    api = testApi();
    await api.mappings.put(aMapping());
    const key = { target: { key: 'env', value: 'dev' }, certificateArn: certArn, certName: 'web' };
    const past = new Date(api.clock.now().getTime() - 3_600_000);
    await api.mappings.acquireLock(key, 'job-gone-1', new Date(past.getTime() + 60_000), past);
    expect((await api.call('admin', 'DELETE', url())).statusCode).toBe(200);
    expect(api.mappings.items.size).toBe(0);
  });

  it('needs deploy on that target', async () => {
    api = testApi();
    await api.mappings.put(aMapping({ target: { key: 'env', value: 'prod' } }));
    expect((await api.call('ci', 'DELETE', url(certArn, 'env', 'prod'))).statusCode).toBe(403);
    expect((await api.call('reader', 'DELETE', url(certArn, 'env', 'prod'))).statusCode).toBe(403);
    expect(api.mappings.items.size).toBe(1);
  });
});
