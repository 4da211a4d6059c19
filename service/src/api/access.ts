import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator, Identity } from '../auth/authenticator.ts';
import type { Authorizer } from '../auth/authorization.ts';
import { AuthenticationError, AuthUnavailableError } from '../auth/errors.ts';
import type { Action } from '../config/config.ts';
import { type InstallOptions, installOptionFields } from '../domain/install-options.ts';
import { formatTarget, type TargetTag } from '../domain/target.ts';
import { ApiError } from './errors.ts';

/**
 * Who may call a route:
 * - `public`: anyone (health, readiness, the OpenAPI document);
 * - `read`: principals allowed `read`;
 * - `deploy`: principals allowed `deploy` (the handler then checks the target);
 * - `status`: `read`, or `deploy` on the deployment's target (checked by the handler).
 */
export type Access = 'public' | 'read' | 'deploy' | 'status';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    identity: Identity | undefined;
  }
}

function lambdaEvent(request: FastifyRequest): unknown {
  return (request as { awsLambda?: { event?: unknown } }).awsLambda?.event;
}

/**
 * Authenticates every non-public request before its body is read (401 or 503), and refuses
 * principals who hold no rule for the route's action (403). Every route must declare its access:
 * registering one that does not fails at start.
 */
export function registerAccessControl(
  app: FastifyInstance,
  authenticator: Authenticator,
  authorizer: Authorizer,
): void {
  app.decorateRequest('identity', undefined);
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare its access`);
    }
  });
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    if (access === 'public') return;
    let identity: Identity;
    try {
      identity = await authenticator.authenticate({
        authorization: request.headers.authorization,
        lambdaEvent: lambdaEvent(request),
      });
    } catch (error) {
      if (error instanceof AuthenticationError) {
        request.log.warn(
          { principal: null, accessKeyId: error.accessKeyId, reason: error.reason },
          `authentication failed: ${error.message}`,
        );
        throw new ApiError('UNAUTHENTICATED', error.message, { reason: error.reason });
      }
      if (error instanceof AuthUnavailableError) {
        request.log.error({ err: error }, 'authentication unavailable');
        throw new ApiError('AUTH_UNAVAILABLE', 'the caller could not be verified now; retry', {
          cause: error,
        });
      }
      throw error;
    }
    request.identity = identity;
    const allowed =
      access === 'status'
        ? authorizer.allows(identity.principal, 'read') ||
          authorizer.allows(identity.principal, 'deploy')
        : access !== undefined && authorizer.allows(identity.principal, access);
    if (!allowed) {
      const action: Action = access === 'deploy' ? 'deploy' : 'read';
      request.log.warn(
        { principal: identity.principal, arn: identity.arn, action },
        'forbidden: no rule allows this action',
      );
      throw new ApiError('FORBIDDEN', `${identity.principal} is not allowed to ${action}`);
    }
  });
}

/** The identity the onRequest hook established (only on non-public routes). */
export function identityOf(request: FastifyRequest): Identity {
  if (request.identity === undefined) throw new Error('route reached without an identity');
  return request.identity;
}

/** 403 unless the principal may deploy to (or stop managing certificates on) this target. */
export function requireTarget(
  request: FastifyRequest,
  authorizer: Authorizer,
  target: TargetTag,
): void {
  const identity = identityOf(request);
  if (authorizer.allowsTarget(identity.principal, target)) return;
  request.log.warn(
    { principal: identity.principal, arn: identity.arn, action: 'deploy', target },
    'forbidden: target not allowed',
  );
  throw new ApiError(
    'FORBIDDEN',
    `${identity.principal} is not allowed to deploy to ${formatTarget(target)}`,
  );
}

/** 403 naming the fields unless the principal may set install options for this target. */
export function requireInstallOptions(
  request: FastifyRequest,
  authorizer: Authorizer,
  target: TargetTag,
  install: InstallOptions | undefined,
): void {
  const given = installOptionFields.filter((f) => install?.[f] !== undefined && install[f] !== '');
  if (given.length === 0) return;
  const identity = identityOf(request);
  if (authorizer.allowsInstallOptions(identity.principal, target)) return;
  request.log.warn(
    { principal: identity.principal, arn: identity.arn, action: 'install-options', target, given },
    'forbidden: install options not allowed',
  );
  throw new ApiError(
    'FORBIDDEN',
    `${identity.principal} may deploy to ${formatTarget(target)} but not set install options (${given.join(', ')}): that needs the "install-options" action`,
    {
      details: given.map((f) => ({
        in: 'body',
        field: `/install/${f}`,
        problem: 'needs the "install-options" action on this target',
      })),
    },
  );
}

/** For `status` routes: read, or deploy on this target. */
export function requireReadOrTarget(
  request: FastifyRequest,
  authorizer: Authorizer,
  target: TargetTag,
): void {
  if (authorizer.allows(identityOf(request).principal, 'read')) return;
  requireTarget(request, authorizer, target);
}
