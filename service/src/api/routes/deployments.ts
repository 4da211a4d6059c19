import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAllowedCertificate } from '../../domain/allowed-certificates.ts';
import { policyProblems } from '../../domain/deployment-policy.ts';
import { isSafeCertName } from '../../domain/names.ts';
import { DeployRequestV1, LegacyDeployBody } from '../../messages/deploy-request.ts';
import {
  identityOf,
  requireInstallOptions,
  requireReadOrTarget,
  requireTarget,
} from '../access.ts';
import { planDeployment } from '../dry-run.ts';
import { ApiError, fromPort } from '../errors.ts';
import {
  DeploymentParams,
  DeploymentPlanView,
  DeploymentView,
  errorResponses,
  IdempotencyHeaders,
  JobAccepted,
  PageQuery,
  ServerResultPage,
} from '../schemas.ts';
import { type DeploymentRequest, submitDeployment } from '../submit.ts';
import { type ApiApp, authenticated, type RouteContext } from '../types.ts';
import { deploymentView, serverResultView } from '../views.ts';

const submitResponses = {
  200: { ...JobAccepted, description: 'An earlier request with this Idempotency-Key' },
  202: { ...JobAccepted, description: 'Recorded as Queued and on the queue' },
  ...errorResponses(400, 401, 403, 409, 413, 415, 503),
};

/** Per-server results a deployment's view carries; the servers route pages on from there. */
const serversPerView = 100;

export function deploymentRoutes(app: ApiApp, { deps, authorizer }: RouteContext): void {
  const baseUrl = (deps.config.api.publicBaseUrl ?? '').replace(/\/+$/, '');

  /** Every check a deployment request passes before anything is recorded (dry runs too). */
  function admit(
    request: FastifyRequest,
    body: DeploymentRequest,
    fields: { certificateArn: string; certName: string; targetKey: string },
  ): void {
    // The same extra check the worker applies after the schema (messages/parse-message.ts).
    if (!isSafeCertName(body.certName)) {
      throw new ApiError('VALIDATION_FAILED', `body ${fields.certName} is not a safe file name`, {
        details: [{ in: 'body', field: fields.certName, problem: 'must not contain ".."' }],
      });
    }
    // What the operator allows anyone (the worker refuses the same on the queue).
    const refused = policyProblems(body, deps.config.policy);
    if (refused.length > 0) {
      const details = refused.map((p) => ({
        in: 'body',
        field:
          p.field === '/target/key'
            ? fields.targetKey
            : p.field === '/certificateArn'
              ? fields.certificateArn
              : p.field,
        problem: p.problem,
      }));
      throw new ApiError(
        'VALIDATION_FAILED',
        details.map((d) => `body ${d.field} ${d.problem}`).join('; '),
        { details },
      );
    }
    requireTarget(request, authorizer, body.target);
    requireInstallOptions(request, authorizer, body.target, body.install);
    if (!isAllowedCertificate(body.certificateArn, deps.config.allowedCertificateArns)) {
      request.log.warn(
        { principal: identityOf(request).principal, certificateArn: body.certificateArn },
        'certificate not allowed',
      );
      throw new ApiError(
        'CERTIFICATE_NOT_ALLOWED',
        `certificate ${body.certificateArn} is not in this service's allow-list`,
      );
    }
  }

  /** A deployment the caller may follow (read, or deploy on its target); 404 when none. */
  async function followedDeployment(request: FastifyRequest, id: string) {
    const found = await fromPort('the deployments table', deps.ports.deployments.get(id));
    if (found === undefined) {
      throw new ApiError('DEPLOYMENT_NOT_FOUND', `no deployment ${id}`);
    }
    requireReadOrTarget(request, authorizer, found.job.target);
    return found;
  }

  async function accept(
    request: FastifyRequest,
    reply: FastifyReply,
    body: DeploymentRequest,
    fields: { certificateArn: string; certName: string; targetKey: string },
    idempotencyKey: string | undefined,
  ) {
    admit(request, body, fields);
    const result = await submitDeployment(
      { ports: deps.ports, now: deps.clock.now(), log: request.log },
      body,
      identityOf(request).principal,
      idempotencyKey,
    );
    const statusUrl = `${baseUrl}/v1/deployments/${result.jobId}`;
    reply.code(result.statusCode).header('location', statusUrl);
    if (result.replayed) reply.header('idempotent-replayed', 'true');
    return { jobId: result.jobId, status: result.status, statusUrl };
  }

  app.post(
    '/export-cert',
    {
      config: { access: 'deploy' },
      schema: {
        summary: 'Deploy a certificate (original request shape)',
        description:
          'Kept for existing callers; the same as POST /v1/deployments. Returns once the job is recorded as Queued and is on the queue.',
        tags: ['deployments'],
        security: authenticated,
        headers: IdempotencyHeaders,
        body: LegacyDeployBody,
        response: submitResponses,
      },
    },
    async (request, reply) => {
      const b = request.body;
      return accept(
        request,
        reply,
        {
          certificateArn: b.CertificateArn,
          certName: b.CertName,
          target: { key: b.TargetTagKey, value: b.TargetTagValue },
        },
        { certificateArn: '/CertificateArn', certName: '/CertName', targetKey: '/TargetTagKey' },
        request.headers['idempotency-key'],
      );
    },
  );

  app.post(
    '/v1/deployments',
    {
      config: { access: 'deploy' },
      schema: {
        summary: 'Deploy a certificate to the servers of a target tag',
        description:
          'Returns 202 once the job is recorded as Queued and is on the queue. With an Idempotency-Key, a retry returns the same job.',
        tags: ['deployments'],
        security: authenticated,
        headers: IdempotencyHeaders,
        body: DeployRequestV1,
        response: submitResponses,
      },
    },
    async (request, reply) =>
      accept(
        request,
        reply,
        request.body,
        { certificateArn: '/certificateArn', certName: '/certName', targetKey: '/target/key' },
        request.headers['idempotency-key'],
      ),
  );

  app.post(
    '/v1/deployments/dry-run',
    {
      config: { access: 'deploy' },
      schema: {
        summary: 'What a deployment would do, without doing it',
        description:
          'The same body and the same checks as POST /v1/deployments (400, 403 as there). Then, read-only: the certificate as ACM describes it (is it issued and exportable?), the managed nodes the target tag reaches with their agent status and version, and the serial each holds according to the mapping’s last deployment. Exports nothing, records nothing, queues nothing.',
        tags: ['deployments'],
        security: authenticated,
        body: DeployRequestV1,
        response: {
          200: DeploymentPlanView,
          ...errorResponses(400, 401, 403, 413, 415, 503),
        },
      },
    },
    async (request) => {
      admit(request, request.body, {
        certificateArn: '/certificateArn',
        certName: '/certName',
        targetKey: '/target/key',
      });
      return fromPort('ACM or Systems Manager', planDeployment(deps.ports, request.body));
    },
  );

  app.get(
    '/v1/deployments/:id',
    {
      config: { access: 'status' },
      schema: {
        summary: 'A deployment: status, conditions and per-server results',
        description:
          'Allowed with read, or with deploy on the deployment’s target (so a pipeline can follow its own jobs).',
        tags: ['deployments'],
        security: authenticated,
        params: DeploymentParams,
        response: { 200: DeploymentView, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const found = await followedDeployment(request, request.params.id);
      const servers = await fromPort(
        'the servers table',
        deps.ports.servers.listJobResults(found.job.jobId, serversPerView),
      );
      return deploymentView(found, servers);
    },
  );

  app.get(
    '/v1/deployments/:id/servers',
    {
      config: { access: 'status' },
      schema: {
        summary: 'A deployment’s per-server results, by instance id (paginated)',
        description:
          'Recorded once the job ended, one item per server, so a job to thousands of servers pages through them. Allowed as GET /v1/deployments/{id}.',
        tags: ['deployments'],
        security: authenticated,
        params: DeploymentParams,
        querystring: PageQuery,
        response: { 200: ServerResultPage, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const found = await followedDeployment(request, request.params.id);
      const { limit = 50, cursor } = request.query;
      const page = await fromPort(
        'the servers table',
        deps.ports.servers.listJobResults(found.job.jobId, limit, cursor),
      );
      return {
        items: page.items.map(serverResultView),
        ...(page.cursor === undefined ? {} : { nextCursor: page.cursor }),
      };
    },
  );
}
