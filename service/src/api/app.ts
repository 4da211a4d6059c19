import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
} from 'fastify';
import { allowEverything, compileRules } from '../auth/authorization.ts';
import { authScheme } from '../auth/token.ts';
import { redactPaths } from '../logging/logger.ts';
import { version } from '../version.ts';
import { registerAccessControl } from './access.ts';
import { clientErrorHandler } from './client-errors.ts';
import type { ApiDependencies } from './dependencies.ts';
import { registerErrorHandling } from './error-handler.ts';
import { lazySchemaController } from './lazy-compilers.ts';
import { registerRequestDeadline } from './request-deadline.ts';
import { certificateRoutes } from './routes/certificates.ts';
import { deploymentCancelRoutes } from './routes/deployment-cancel.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { healthRoutes } from './routes/health.ts';
import { reconcileRoutes } from './routes/reconcile.ts';
import { sharedSchemas } from './schemas.ts';
import type { ApiApp } from './types.ts';
import { typeboxValidatorCompiler } from './validation.ts';

/** `version` is the one version number (package.json's): the package, this document and the image. */
const openApiInfo = {
  title: 'acm-cert-export',
  version,
  description:
    'Export AWS Certificate Manager certificates and install them on servers through SSM Run Command. See docs/api.md and docs/auth.md.',
};

/**
 * The HTTP API as a Fastify plugin: error handling, authentication and authorization, the
 * OpenAPI document and every route. It receives all it needs; it reads no environment and
 * starts nothing. Registered without encapsulation so its handlers cover the whole instance.
 */
export const apiPlugin: FastifyPluginAsync<ApiDependencies> = async (instance, deps) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>() as ApiApp;
  const authorizer =
    deps.authenticator.mode === 'none'
      ? allowEverything
      : compileRules(deps.config.auth.principals);
  if (deps.authenticator.mode === 'none') {
    app.log.warn('AUTH_MODE=none: every caller may do everything; use only on a local machine');
  }
  app.setValidatorCompiler(typeboxValidatorCompiler);
  for (const schema of sharedSchemas) app.addSchema(schema);
  // JSON only: any other body type is refused with 415 rather than half-parsed.
  app.removeContentTypeParser('text/plain');
  registerErrorHandling(app, deps.config.api.bodyLimit);
  registerRequestDeadline(app, deps.config.api.deadlineSeconds);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(swagger, {
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    openapi: {
      openapi: '3.1.0',
      info: openApiInfo,
      tags: [
        { name: 'deployments', description: 'Deploy certificates and follow the jobs' },
        { name: 'certificates', description: 'Managed certificates and their deployments' },
        { name: 'health', description: 'Liveness and readiness, no authentication' },
      ],
      components: {
        securitySchemes: {
          AcmCertExport: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: `"${authScheme} <token>": a signed sts:GetCallerIdentity request (acm-cert-export token); see docs/auth.md. In Lambda mode: SigV4 (API Gateway AWS_IAM).`,
          },
        },
      },
    },
  });
  registerAccessControl(app, deps.authenticator, authorizer);
  const context = { deps, authorizer };
  healthRoutes(app, context);
  deploymentRoutes(app, context);
  deploymentCancelRoutes(app, context);
  certificateRoutes(app, context);
  reconcileRoutes(app, context);
  app.get(
    '/openapi.json',
    {
      config: { access: 'public' },
      schema: { hide: true },
    },
    async () => app.swagger(),
  );
};
// Same effect as fastify-plugin: hooks and handlers apply to the instance it is registered on.
Object.assign(apiPlugin, { [Symbol.for('skip-override')]: true });

/**
 * Builds the Fastify instance with the API registered, not yet listening: the composition root
 * calls `listen`, the Lambda handler wraps it, tests and the bench call `inject` or listen on
 * loopback (the bench can compare with the unauthenticated `GET /healthz`).
 */
export function buildApp(deps: ApiDependencies): FastifyInstance {
  const log = deps.logger.child(
    { component: 'api' },
    { redact: { paths: redactPaths, censor: '[REDACTED]' } },
  ) as FastifyBaseLogger;
  const app = Fastify({
    loggerInstance: log,
    clientErrorHandler: clientErrorHandler(log),
    bodyLimit: deps.config.api.bodyLimit,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    exposeHeadRoutes: false,
    // Longer than the ALB's 60 s idle timeout, so the ALB always closes idle connections first.
    keepAliveTimeout: 65_000,
    requestTimeout: 30_000,
    // Response serializers compile on first use, not all at start (lazy-compilers.ts).
    schemaController: lazySchemaController(),
  });
  app.register(apiPlugin, deps);
  return app;
}
