import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/domain/errors.ts';
import { aDeployment, principals, type TestApi, testApi } from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

const prodJob = (jobId: string) =>
  aDeployment({
    jobId,
    job: { ...aDeployment().job, jobId, target: { key: 'env', value: 'prod' } },
  });

describe('POST /v1/deployments/:id/cancel', () => {
  it('records who asked and when, and answers 202 with the deployment', async () => {
    api = testApi();
    await api.deployments.create(aDeployment({ jobId: 'job-12345678', status: 'Running' }));
    const res = await api.call('ci', 'POST', '/v1/deployments/job-12345678/cancel');
    expect(res.statusCode).toBe(202);
    const at = api.clock.now().toISOString();
    expect(res.json()).toMatchObject({
      jobId: 'job-12345678',
      status: 'Running',
      cancelRequest: { at, by: principals.ci },
    });
    const stored = await api.deployments.get('job-12345678');
    expect(stored?.cancelRequest).toEqual({ at, by: principals.ci });
    expect(stored?.version).toBe(4);
    expect(api.logs.join('')).toContain('cancel requested');
  });

  it('answers a second request with the first one, writing nothing', async () => {
    api = testApi();
    await api.deployments.create(aDeployment({ jobId: 'job-12345678', status: 'Queued' }));
    await api.call('admin', 'POST', '/v1/deployments/job-12345678/cancel');
    api.clock.advance(5000);
    const again = await api.call('ci', 'POST', '/v1/deployments/job-12345678/cancel');
    expect(again.statusCode).toBe(202);
    expect(again.json().cancelRequest.by).toBe(principals.admin);
    expect((await api.deployments.get('job-12345678'))?.version).toBe(4);
  });

  it.each([
    'Succeeded',
    'PartiallyFailed',
    'Failed',
    'TimedOut',
    'NoTargets',
    'Cancelled',
  ] as const)(
    '409 DEPLOYMENT_FINISHED for a job that ended %s; nothing changes',
    async (status) => {
      api = testApi();
      await api.deployments.create(aDeployment({ jobId: 'job-12345678', status }));
      const res = await api.call('admin', 'POST', '/v1/deployments/job-12345678/cancel');
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('DEPLOYMENT_FINISHED');
      expect(res.json().error.message).toContain(`has already ended ${status}`);
      expect((await api.deployments.get('job-12345678'))?.version).toBe(3);
    },
  );

  it('needs deploy on the job’s target: 403 for other targets and for readers', async () => {
    api = testApi();
    await api.deployments.create(prodJob('job-prod-001'));
    const other = await api.call('ci', 'POST', '/v1/deployments/job-prod-001/cancel');
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('FORBIDDEN');
    const reader = await api.call('reader', 'POST', '/v1/deployments/job-prod-001/cancel');
    expect(reader.statusCode).toBe(403);
    expect((await api.deployments.get('job-prod-001'))?.cancelRequest).toBeUndefined();
    const admin = await api.call('admin', 'POST', '/v1/deployments/job-prod-001/cancel');
    expect(admin.statusCode).toBe(202);
  });

  it('404 DEPLOYMENT_NOT_FOUND for an unknown job, 401 without credentials', async () => {
    api = testApi();
    const missing = await api.call('admin', 'POST', '/v1/deployments/job-00000404/cancel');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('DEPLOYMENT_NOT_FOUND');
    const anonymous = await api.call(undefined, 'POST', '/v1/deployments/job-00000404/cancel');
    expect(anonymous.statusCode).toBe(401);
  });

  it('reads again when the worker wrote first, and sees a job that ended meanwhile', async () => {
    api = testApi();
    await api.deployments.create(aDeployment({ jobId: 'job-12345678', status: 'Running' }));
    const save = api.deployments.save.bind(api.deployments);
    let writes = 0;
    api.deployments.save = async (next) => {
      writes += 1;
      // The worker records the outcome between the API's read and its write.
      const stored = await api.deployments.get('job-12345678');
      if (stored !== undefined && writes === 1) {
        await save({ ...stored, status: 'Succeeded', version: stored.version + 1 });
      }
      return save(next);
    };
    const res = await api.call('admin', 'POST', '/v1/deployments/job-12345678/cancel');
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('DEPLOYMENT_FINISHED');
    expect((await api.deployments.get('job-12345678'))?.cancelRequest).toBeUndefined();
  });

  it('503 when the record keeps changing under it', async () => {
    api = testApi();
    await api.deployments.create(aDeployment({ jobId: 'job-12345678', status: 'Running' }));
    api.deployments.save = async () => {
      throw new ConflictError('version conflict');
    };
    const res = await api.call('admin', 'POST', '/v1/deployments/job-12345678/cancel');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
  });
});
