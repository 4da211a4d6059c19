import { afterEach, describe, expect, it } from 'vitest';
import {
  type DashboardServer,
  type Forward,
  startDashboardServer,
} from '../../../src/dashboard/dashboard-server.ts';
import { send } from './support.ts';

let server: DashboardServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function aServer(forward: Forward = async () => ({ status: 200, body: { items: [] } })) {
  const forwarded: string[] = [];
  server = await startDashboardServer({
    port: 0,
    apiUrl: 'https://certs.example.com',
    forward: async (path) => {
      forwarded.push(path);
      return forward(path);
    },
  });
  return { url: server.url, forwarded, port: new URL(server.url).port };
}

describe('the dashboard server', () => {
  it('listens on 127.0.0.1 and serves the page with a strict content security policy', async () => {
    const { url } = await aServer();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await send(url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/dashboard.js"></script>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    for (const file of ['/dashboard.js', '/model.js', '/dashboard.css', '/favicon.svg']) {
      expect((await send(`${url}${file.slice(1)}`)).status, file).toBe(200);
    }
    const info = await send(`${url}info.json`);
    expect(JSON.parse(info.body)).toEqual({ apiUrl: 'https://certs.example.com' });
  });

  it('forwards the page’s GETs of the read routes and passes the API’s answer on', async () => {
    const { url, forwarded } = await aServer(async (path) =>
      path.startsWith('/v1/deployments/')
        ? {
            status: 404,
            body: { error: { code: 'DEPLOYMENT_NOT_FOUND', message: 'no deployment x' } },
          }
        : { status: 200, body: { items: [{ certName: 'web' }] } },
    );
    const list = await send(`${url}api/v1/certificates?limit=100&debug=1`);
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toBe('application/json');
    expect(list.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(list.body)).toEqual({ items: [{ certName: 'web' }] });
    const missing = await send(`${url}api/v1/deployments/x`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.code).toBe('DEPLOYMENT_NOT_FOUND');
    expect(forwarded).toEqual(['/v1/certificates?limit=100', '/v1/deployments/x']);
  });

  it('forwards nothing but the read routes', async () => {
    const { url, forwarded } = await aServer();
    for (const path of ['api/v1/reconcile', 'api/v1/deployments/j-1/cancel', 'api/healthz']) {
      const res = await send(`${url}${path}`);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body).error.code).toBe('NOT_A_READ_ROUTE');
    }
    expect((await send(`${url}etc/passwd`)).status).toBe(404);
    expect(forwarded).toEqual([]);
  });

  it.each(['POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'])(
    'refuses %s (405, forwards nothing)',
    async (method) => {
      const { url, forwarded } = await aServer();
      const res = await send(`${url}api/v1/certificates`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET');
      expect(forwarded).toEqual([]);
    },
  );

  it('refuses a Host that is not its loopback address and port (DNS rebinding)', async () => {
    const { url, forwarded, port } = await aServer();
    for (const host of [
      'attacker.example',
      `attacker.example:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
      '127.0.0.1',
    ]) {
      const res = await send(`${url}api/v1/certificates`, { headers: { host } });
      expect(res.status, host).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe('HOST_NOT_ALLOWED');
    }
    expect((await send(url, { headers: { host: 'rebound.example' } })).status).toBe(403);
    expect(forwarded).toEqual([]);
    expect(
      (await send(`${url}api/v1/certificates`, { headers: { host: `localhost:${port}` } })).status,
    ).toBe(200);
  });

  it('refuses requests another site makes (Sec-Fetch-Site)', async () => {
    const { url, forwarded } = await aServer();
    const res = await send(`${url}api/v1/certificates`, {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(403);
    expect(forwarded).toEqual([]);
    const own = await send(`${url}api/v1/certificates`, {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(own.status).toBe(200);
  });

  it('answers 502 without detail when forwarding throws', async () => {
    const { url } = await aServer(async () => {
      throw new Error('secret detail');
    });
    const res = await send(`${url}api/v1/certificates`);
    expect(res.status).toBe(502);
    expect(res.body).not.toContain('secret detail');
  });
});
