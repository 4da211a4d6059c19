import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A test's HTTP server listening on a free port of 127.0.0.1. */
export interface LoopbackServer {
  readonly endpoint: string;
  /** Closes it, open connections included. */
  stop(): Promise<void>;
}

/** Starts `server` on a free loopback port: its endpoint and how to stop it. */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
