import type { FastifyInstance, RouteOptions } from 'fastify';
import { ApiError } from './errors.ts';

/** What a caller is told to wait before trying again (`Retry-After`, seconds). */
export const deadlineRetryAfterSeconds = 5;

/**
 * Every route's handler answers within `deadlineSeconds` of the request's arrival: one still
 * waiting on AWS then (each call retried with backoff behind throttling, 5xx and dropped
 * connections, a listing page reading many items) is answered `503 DEPENDENCY_UNAVAILABLE` with
 * `Retry-After`, instead of leaving the caller to API Gateway's 504 after 29 s or the ALB's after
 * 60 s, or waiting with no answer at all. The handler's calls run on to their end (their retries
 * are bounded) and their result is dropped. A write may have been carried out: its message says
 * to retry with the same Idempotency-Key, which gives the job it created. Call before the routes
 * are added; routes with `config.access` `public` (health, the OpenAPI document) are left as they
 * are: they read nothing from AWS but the readiness check, which has its own timeouts.
 */
export function registerRequestDeadline(app: FastifyInstance, deadlineSeconds: number): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if ((route.config as { access?: string } | undefined)?.access === 'public') return;
    const handler = route.handler;
    route.handler = function withDeadline(request, reply) {
      // Fastify's own count from the request's arrival: authentication is inside the deadline.
      const elapsed = reply.elapsedTime;
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => {
            reply.header('retry-after', String(deadlineRetryAfterSeconds));
            reject(
              new ApiError(
                'DEPENDENCY_UNAVAILABLE',
                request.method === 'GET'
                  ? `AWS did not answer within ${deadlineSeconds} s; retry later`
                  : `AWS did not answer within ${deadlineSeconds} s: the request may still be carried out; retry it with the same Idempotency-Key`,
              ),
            );
          },
          Math.max(0, deadlineSeconds * 1000 - elapsed),
        );
      });
      return Promise.race([Promise.resolve(handler.call(this, request, reply)), expired]).finally(
        () => clearTimeout(timer),
      );
    };
  });
}
