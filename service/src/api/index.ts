/**
 * The HTTP API: `buildApp(deps)` gives a Fastify instance (not listening) for the server, the
 * Lambda handler, tests and benchmarks; `startApi(deps)` also listens.
 */
export { apiPlugin, buildApp } from './app.ts';
export type { ApiConfig, ApiDependencies, ApiPorts } from './dependencies.ts';
export { type ErrorCode, errorCodes } from './errors.ts';
export { type RunningApi, startApi } from './start-api.ts';
