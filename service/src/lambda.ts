/**
 * AWS Lambda entry point: the same Fastify app as the container, behind API Gateway with AWS_IAM
 * authorization (AUTH_MODE=lambda: the caller's identity comes from the request context).
 * The app is built once per execution environment, on the first invocation.
 */
import awsLambdaFastify from '@fastify/aws-lambda';
import { buildApp } from './api/app.ts';
import type { ApiDependencies } from './api/dependencies.ts';
import { buildMetrics, compose } from './composition.ts';
import { loadConfigFromProcess } from './config/config.ts';
import { createLogger } from './logging/logger.ts';
import type { EmfMetrics } from './metrics/emf-metrics.ts';
import { systemClock } from './ports/clock.ts';

export type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** A handler that builds the app from `dependencies` on first use (a failed build is retried). */
export function createLambdaHandler(
  dependencies: () => ApiDependencies | Promise<ApiDependencies>,
): LambdaHandler {
  let proxy: Promise<LambdaHandler> | undefined;
  async function init(): Promise<LambdaHandler> {
    const deps = await dependencies();
    if (deps.authenticator.mode !== 'lambda') {
      deps.logger.warn(
        { mode: deps.authenticator.mode },
        'running in Lambda with AUTH_MODE other than lambda: API Gateway identities are ignored',
      );
    }
    const app = buildApp(deps);
    const handle = awsLambdaFastify(app, {
      decorateRequest: true,
      callbackWaitsForEmptyEventLoop: false,
    }) as unknown as LambdaHandler;
    await app.ready();
    return handle;
  }
  return async (event, context) => {
    proxy ??= init().catch((error: unknown) => {
      proxy = undefined;
      throw error;
    });
    return (await proxy)(event, context);
  };
}

/** Runs `flush` after each invocation, whether it succeeded or not. */
export function flushingAfter(handle: LambdaHandler, flush: () => void): LambdaHandler {
  return async (event, context) => {
    try {
      return await handle(event, context);
    } finally {
      flush();
    }
  };
}

let emf: EmfMetrics | undefined;

export const handler = flushingAfter(
  createLambdaHandler(() => {
    const config = loadConfigFromProcess();
    // No /metrics listener in Lambda (nothing could reach it between invocations): with
    // METRICS_EMF the function's AWS calls are written as EMF lines after each invocation.
    const measured = buildMetrics({ ...config, metrics: { ...config.metrics, enabled: false } });
    emf = measured.emf;
    return compose(config, createLogger(config.logLevel), systemClock, measured).api;
  }),
  () => emf?.flush(),
);
