import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isAllowedCertificate } from '../../domain/allowed-certificates.ts';
import { isSafeCertName } from '../../domain/names.ts';
import { formatTarget } from '../../domain/target.ts';
import {
  type ReconcileMappingMessage,
  type ReconcileMessage,
  reconcileMappingType,
  reconcileType,
} from '../../messages/reconcile.ts';
import type { QueueMessage } from '../../ports/job-queue.ts';
import { identityOf, requireTarget } from '../access.ts';
import { ApiError, fromPort } from '../errors.ts';
import {
  errorResponses,
  ReconcileAccepted,
  ReconcileRequest,
  type ReconcileRequest as ReconcileRequestBody,
} from '../schemas.ts';
import { type ApiApp, authenticated, type RouteContext } from '../types.ts';
import { validationError } from '../validation.ts';

const mappingFields = ['certificateArn', 'certName', 'target'] as const;

/** The mapping the body names, undefined for a sweep of all; 400 when it names some fields only. */
function namedMapping(body: ReconcileRequestBody) {
  const missing = mappingFields.filter((f) => body[f] === undefined);
  if (missing.length === mappingFields.length) return undefined;
  const { certificateArn, certName, target } = body;
  if (certificateArn === undefined || certName === undefined || target === undefined) {
    throw validationError(
      'body',
      missing.map((f) => ({
        in: 'body',
        field: `/${f}`,
        problem:
          'is required with the other two of certificateArn, certName and target (send none of them to reconcile every mapping)',
      })),
    );
  }
  if (!isSafeCertName(certName)) {
    throw validationError('body', [
      { in: 'body', field: '/certName', problem: 'must not contain ".."' },
    ]);
  }
  return { certificateArn, certName, target };
}

export function reconcileRoutes(app: ApiApp, { deps, authorizer }: RouteContext): void {
  /** 403 unless the principal may deploy to every target (a rule with `*=*`). */
  function requireEveryTarget(request: FastifyRequest): void {
    const identity = identityOf(request);
    if (authorizer.allowsEveryTarget(identity.principal)) return;
    request.log.warn(
      { principal: identity.principal, arn: identity.arn, action: 'reconcile-all' },
      'forbidden: reconciling every mapping needs deploy on every target',
    );
    throw new ApiError(
      'FORBIDDEN',
      `${identity.principal} may not reconcile every mapping: that needs "deploy" on every target (a rule whose targets include "*=*"); name one mapping (certificateArn, certName, target) on a target you may deploy to instead`,
    );
  }

  app.post(
    '/v1/reconcile',
    {
      config: { access: 'deploy' },
      schema: {
        summary: 'Reconcile now: every mapping, or one',
        description:
          'Queues what the hourly schedule queues: each mapping compared with ACM (a serial never deployed is deployed) and with the servers online with its tag (those without the current certificate, or whose last install failed, get it); with verify, the servers that look converged also get the install document’s Verify mode (drift is repaired). `{}` or `{"verify":true}`: every mapping, for a principal allowed deploy on every target (a rule with target "*=*"). `certificateArn`, `certName` and `target` together: that mapping, for a principal allowed deploy on its target (404 MAPPING_NOT_FOUND when it is not managed). Answers 202 once the message is on the queue; the outcome is in the worker’s log (sweepId) and in the jobs it starts (requester "reconcile <sweepId>").',
        tags: ['deployments'],
        security: authenticated,
        body: ReconcileRequest,
        response: {
          202: { ...ReconcileAccepted, description: 'On the queue' },
          ...errorResponses(400, 401, 403, 404, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const { principal } = identityOf(request);
      const verify = request.body.verify === true;
      const mapping = namedMapping(request.body);
      const sweepId = `api-${randomUUID()}`;
      let message: QueueMessage;
      if (mapping === undefined) {
        requireEveryTarget(request);
        message = {
          type: reconcileType,
          version: 1,
          sweepId,
          ...(verify ? { verify: true } : {}),
          requester: principal,
        } satisfies ReconcileMessage;
      } else {
        requireTarget(request, authorizer, mapping.target);
        if (!isAllowedCertificate(mapping.certificateArn, deps.config.allowedCertificateArns)) {
          throw new ApiError(
            'CERTIFICATE_NOT_ALLOWED',
            `certificate ${mapping.certificateArn} is not in this service's allow-list`,
          );
        }
        const found = await fromPort('the mappings table', deps.ports.mappings.get(mapping));
        if (found === undefined) {
          throw new ApiError(
            'MAPPING_NOT_FOUND',
            `${mapping.certName} of ${mapping.certificateArn} is not managed on ${formatTarget(mapping.target)}`,
          );
        }
        message = {
          type: reconcileMappingType,
          version: 1,
          sweepId,
          certificateArn: mapping.certificateArn,
          certName: mapping.certName,
          target: { key: mapping.target.key, value: mapping.target.value },
          ...(verify ? { verify: true } : {}),
          requester: principal,
        } satisfies ReconcileMappingMessage;
      }
      try {
        await deps.ports.jobs.send(message);
      } catch (error) {
        throw new ApiError(
          'QUEUE_UNAVAILABLE',
          'the reconciliation could not be queued; nothing was done: send it again',
          { cause: error },
        );
      }
      const scope = mapping === undefined ? ('all' as const) : ('mapping' as const);
      request.log.info(
        { principal, sweepId, scope, verify, ...(mapping === undefined ? {} : mapping) },
        'reconciliation queued',
      );
      reply.code(202);
      return { sweepId, scope, verify };
    },
  );
}
