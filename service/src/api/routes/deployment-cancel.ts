import { isTerminal } from '../../domain/deployment.ts';
import { revise } from '../../domain/deployment-record.ts';
import { ConflictError } from '../../domain/errors.ts';
import { identityOf, requireTarget } from '../access.ts';
import { ApiError, fromPort } from '../errors.ts';
import { DeploymentParams, DeploymentView, errorResponses } from '../schemas.ts';
import { type ApiApp, authenticated, type RouteContext } from '../types.ts';
import { deploymentView } from '../views.ts';

/** Writes lost to a worker's own write of the record before the API gives up (503). */
const maxAttempts = 5;

/**
 * `POST /v1/deployments/{id}/cancel`: records a cancel request on the deployment. The worker
 * ends the job `Cancelled` at its next look: it cancels the job's command if one was sent, and
 * never sends one after the request was recorded (its dispatch claim is a conditional write of
 * the same record).
 */
export function deploymentCancelRoutes(app: ApiApp, { deps, authorizer }: RouteContext): void {
  app.post(
    '/v1/deployments/:id/cancel',
    {
      config: { access: 'deploy' },
      schema: {
        summary: 'Cancel a deployment that has not ended',
        description:
          'Needs deploy on the deployment’s target. Records the request and returns 202 with the deployment; the worker then ends it Cancelled at its next look (seconds): a command already sent is cancelled on the servers that have not finished (CancelCommand), and no command is sent after the request. Asking again returns 202 with the same request. A deployment that has ended answers 409 DEPLOYMENT_FINISHED.',
        tags: ['deployments'],
        security: authenticated,
        params: DeploymentParams,
        response: {
          202: { ...DeploymentView, description: 'The cancel request is recorded' },
          ...errorResponses(400, 401, 403, 404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const principal = identityOf(request).principal;
      for (let attempt = 1; ; attempt++) {
        const found = await fromPort(
          'the deployments table',
          deps.ports.deployments.get(request.params.id),
        );
        if (found === undefined) {
          throw new ApiError('DEPLOYMENT_NOT_FOUND', `no deployment ${request.params.id}`);
        }
        requireTarget(request, authorizer, found.job.target);
        if (isTerminal(found.status)) {
          throw new ApiError(
            'DEPLOYMENT_FINISHED',
            `deployment ${found.job.jobId} has already ended ${found.status}: there is nothing to cancel`,
          );
        }
        reply.code(202);
        if (found.cancelRequest !== undefined) return deploymentView(found);
        const now = deps.clock.now();
        try {
          const saved = await deps.ports.deployments.save(
            revise(found, { cancelRequest: { at: now.toISOString(), by: principal } }, now),
          );
          request.log.info(
            { principal, jobId: found.job.jobId, status: found.status },
            'cancel requested',
          );
          return deploymentView(saved);
        } catch (error) {
          // The worker wrote the record first: read it again (it may have ended meanwhile).
          if (error instanceof ConflictError && attempt < maxAttempts) continue;
          throw new ApiError(
            'DEPENDENCY_UNAVAILABLE',
            'the deployments table is unavailable or the job kept changing; retry',
            { cause: error },
          );
        }
      }
    },
  );
}
