import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsServer {
  /** Where it listens (`host:port`), once listening. */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The metrics listener: `GET /metrics` (Prometheus text format) on a port of its own, apart from
 * the API. The API's port is the one the load balancer forwards to; this one is not in the
 * target group, and the task's security group opens it only to the CIDRs the stack names
 * (infra: metricsIngressCidrs), so series naming certificates and targets are never reachable
 * through the load balancer. Anything else answers 404; no request is logged.
 */
export async function startMetricsServer(
  scrape: () => Promise<{ body: string; contentType: string }>,
  options: { host: string; port: number },
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    scrape().then(
      ({ body, contentType }) => {
        response.writeHead(200, { 'content-type': contentType });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  // A scrape is a short request: no connection lingers to hold up a stop.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `${address.includes(':') ? `[${address}]` : address}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
