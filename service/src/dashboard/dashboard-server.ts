import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardedPath } from './read-routes.ts';

/** One API answer: the status and the JSON body to pass on to the page. */
export interface ForwardedAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** GETs `path` (with its query) from the service API, signed as the user: what the proxy does. */
export type Forward = (path: string) => Promise<ForwardedAnswer>;

export interface DashboardServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  readonly forward: Forward;
  /** Shown on the page (never credentials): which API it reads. */
  readonly apiUrl: string;
}

export interface DashboardServer {
  /** e.g. `http://127.0.0.1:8090/` */
  readonly url: string;
  close(): Promise<void>;
}

/** The page's files (service/src/dashboard/page/), each with its media type. */
const pageFiles: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/model.js': { file: 'model.js', type: 'text/javascript; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/** The page loads its own files and calls its own origin; nothing inline, nothing elsewhere. */
const securityHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...securityHeaders, 'content-type': type, ...extra });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, 'application/json', JSON.stringify({ error: { code, message } }));
}

/** Reads the page's files once, at start: a missing file stops the command before it listens. */
function loadPage(dir: URL): Map<string, { body: Buffer; type: string }> {
  return new Map(
    Object.entries(pageFiles).map(([path, { file, type }]) => [
      path,
      { body: readFileSync(new URL(file, dir)), type },
    ]),
  );
}

/**
 * The dashboard's HTTP server, on 127.0.0.1 only: the page's files, `/info.json` (which API it
 * reads) and `/api/…`, which forwards the page's GETs of the API's read routes (read-routes.ts).
 * Like `kubectl proxy`, whoever reaches the port reads the API as the user: so it answers only
 * requests addressed to the loopback address and port it listens on (a Host of another name is
 * a DNS-rebinding page: refused), only GET, and only from its own origin.
 */
export async function startDashboardServer(
  options: DashboardServerOptions,
  pageDir: URL = new URL('./page/', import.meta.url),
): Promise<DashboardServer> {
  const page = loadPage(pageDir);
  let allowedHosts = new Set<string>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowedHosts.has(req.headers.host ?? '')) {
      sendError(res, 403, 'HOST_NOT_ALLOWED', 'this proxy answers only to its loopback address');
      return;
    }
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      sendError(res, 405, 'METHOD_NOT_ALLOWED', 'the dashboard only reads: GET');
      return;
    }
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      sendError(res, 403, 'CROSS_SITE', 'requests from other sites are refused');
      return;
    }
    const url = req.url ?? '/';
    const pathname = url.split('?')[0] ?? '/';
    const file = page.get(pathname === '/index.html' ? '/' : pathname);
    if (file !== undefined) {
      send(res, 200, file.type, file.body);
      return;
    }
    if (pathname === '/info.json') {
      send(res, 200, 'application/json', JSON.stringify({ apiUrl: options.apiUrl }));
      return;
    }
    if (!pathname.startsWith('/api/')) {
      sendError(res, 404, 'NOT_FOUND', 'no such page');
      return;
    }
    const path = forwardedPath(url);
    if (path === undefined) {
      sendError(res, 404, 'NOT_A_READ_ROUTE', 'the dashboard forwards only the API’s read routes');
      return;
    }
    const answer = await options.forward(path);
    send(res, answer.status, 'application/json', JSON.stringify(answer.body ?? null));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // The forwarder answers errors itself; this is a last resort that says nothing more.
      if (!res.headersSent)
        sendError(res, 502, 'PROXY_ERROR', 'the request could not be forwarded');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
