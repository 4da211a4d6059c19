import type { RouteOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthUnavailableError } from '../../../src/auth/errors.ts';
import { certArn, type TestApi, testApi, v1Body } from './support/harness.ts';

let api: TestApi;
afterEach(async () => {
  await api?.app.close();
});

const samples: Record<string, string> = {
  ':id': 'job-00000001',
  ':arn': encodeURIComponent(certArn),
  ':key': 'env',
  ':value': 'dev',
  ':certName': 'web',
};

async function routesOf(t: TestApi) {
  const routes: { method: string; url: string; access: string | undefined }[] = [];
  t.app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, access: route.config?.access });
    }
  });
  await t.app.ready();
  return routes;
}

describe('every route declares who may call it', () => {
  it('public routes answer without credentials; all others answer 401 UNAUTHENTICATED', async () => {
    api = testApi();
    const routes = await routesOf(api);
    expect(routes.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'DELETE /v1/certificates/:arn/targets/:key/:value/:certName',
      'GET /healthz',
      'GET /openapi.json',
      'GET /readyz',
      'GET /v1/certificates',
      'GET /v1/certificates/:arn/deployments',
      'GET /v1/certificates/:arn/targets',
      'GET /v1/deployments/:id',
      'GET /v1/deployments/:id/servers',
      'POST /export-cert',
      'POST /v1/deployments',
      'POST /v1/deployments/:id/cancel',
      'POST /v1/deployments/dry-run',
      'POST /v1/reconcile',
    ]);
    for (const route of routes) {
      const url = route.url.replace(/:\w+/g, (p) => samples[p] ?? p);
      const res = await api.app.inject({
        method: route.method as 'GET',
        url,
        ...(route.method === 'POST' ? { payload: v1Body } : {}),
      });
      if (route.access === 'public') {
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(200);
      } else {
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(res.json().error).toMatchObject({ code: 'UNAUTHENTICATED' });
        expect(res.headers['www-authenticate']).toBe('AcmCertExport');
      }
    }
    expect(api.queue.messages).toHaveLength(0);
  });

  it('a route without an access declaration stops the app from starting', async () => {
    api = testApi();
    api.app.register(async (child) => {
      child.get('/v1/forgotten', async () => 'oops');
    });
    await expect(api.app.ready()).rejects.toThrow(/does not declare its access/);
  });

  it('a principal without any rule is refused (403) and logged with its ARN', async () => {
    api = testApi();
    const res = await api.call('nobody', 'GET', '/v1/certificates');
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toEqual({
      code: 'FORBIDDEN',
      message: 'arn:aws:iam::123456789012:user/nobody is not allowed to read',
    });
    const logged = api.logs.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith('forbidden'));
    expect(logged).toMatchObject({
      principal: 'arn:aws:iam::123456789012:user/nobody',
      action: 'read',
    });
  });

  it('401s are logged with the reason, never with the token', async () => {
    api = testApi();
    await api.app.inject({
      method: 'GET',
      url: '/v1/certificates',
      headers: { authorization: 'AcmCertExport stranger-token-value' },
    });
    const logged = api.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.msg?.startsWith('authentication'));
    expect(logged).toMatchObject({ principal: null, reason: 'MISSING_TOKEN' });
    expect(api.logs.join('\n')).not.toContain('stranger-token-value');
  });

  it('503 AUTH_UNAVAILABLE when the identity provider cannot be asked', async () => {
    api = testApi({
      authenticator: {
        mode: 'sts',
        authenticate: async () => {
          throw new AuthUnavailableError('STS could not be reached');
        },
      },
    });
    const res = await api.call('admin', 'GET', '/v1/certificates');
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'AUTH_UNAVAILABLE' });
  });

  it('AUTH_MODE=none allows everything, as anonymous, and says so in the log', async () => {
    api = testApi({
      authenticator: {
        mode: 'none',
        authenticate: async () => ({ principal: 'anonymous', arn: 'anonymous', method: 'none' }),
      },
    });
    const res = await api.call(undefined, 'POST', '/v1/deployments', {
      ...v1Body,
      target: { key: 'env', value: 'prod' },
    });
    expect(res.statusCode).toBe(202);
    expect(api.queue.messages[0]?.requester).toBe('anonymous');
    expect(api.logs.join('\n')).toContain('AUTH_MODE=none');
  });
});
