import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { ApiDependencies } from './dependencies.ts';

/** The API listening on its configured address. */
export interface RunningApi {
  readonly app: FastifyInstance;
  /** e.g. `http://0.0.0.0:8080`. */
  readonly address: string;
  /** Stops accepting connections, lets in-flight requests finish (new ones get 503). */
  close(): Promise<void>;
}

/** Builds the app and listens on `config.api.host:port`; the caller owns the process. */
export async function startApi(deps: ApiDependencies): Promise<RunningApi> {
  const app = buildApp(deps);
  const address = await app.listen({ host: deps.config.api.host, port: deps.config.api.port });
  return { app, address, close: () => app.close() };
}
