import { exportSecretName } from '../../domain/export-secret-name.ts';
import { convergence } from '../../domain/server-convergence.ts';
import { mappingRef } from '../../metrics/mapping-ref.ts';
import { requireTarget } from '../access.ts';
import { ApiError, fromPort } from '../errors.ts';
import {
  CertificatePage,
  CertificateParams,
  CertificateTargets,
  DeploymentPage,
  errorResponses,
  MappingParams,
  PageQuery,
  StopManagingResult,
} from '../schemas.ts';
import { type ApiApp, authenticated, type RouteContext } from '../types.ts';
import { certificateItem, deploymentView, installedServerView } from '../views.ts';

const defaultLimit = 50;
/** A page's mappings read their servers (one Query each) this many at a time. */
const serverReadsAtOnce = 10;

/** `f` of each item, `size` at a time, in order. */
async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  f: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map(f))));
  }
  return out;
}

export function certificateRoutes(app: ApiApp, { deps, authorizer }: RouteContext): void {
  app.get(
    '/v1/certificates',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Every managed certificate on every target (paginated)',
        description:
          'Each item counts the servers converged on the mapping’s serial out of those its jobs reached (`servers`): one read of the servers table per mapping.',
        tags: ['certificates'],
        security: authenticated,
        querystring: PageQuery,
        response: { 200: CertificatePage, ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const { limit = defaultLimit, cursor } = request.query;
      const page = await fromPort('the mappings table', deps.ports.mappings.list(limit, cursor));
      const servers = await fromPort(
        'the servers table',
        inBatches(page.items, serverReadsAtOnce, async (m) =>
          convergence(m.serial, await deps.ports.servers.installed(m)),
        ),
      );
      const now = deps.clock.now();
      return {
        items: page.items.map((m, i) => certificateItem(m, now, servers[i])),
        ...(page.cursor === undefined ? {} : { nextCursor: page.cursor }),
      };
    },
  );

  app.get(
    '/v1/certificates/:arn/deployments',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Deployments of one certificate, newest first (paginated)',
        description: 'The ARN is one path segment: URL-encode it (`/` as `%2F`).',
        tags: ['certificates'],
        security: authenticated,
        params: CertificateParams,
        querystring: PageQuery,
        response: { 200: DeploymentPage, ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const { limit = defaultLimit, cursor } = request.query;
      const page = await fromPort(
        'the deployments table',
        deps.ports.deployments.listByCertificate(request.params.arn, limit, cursor),
      );
      return {
        items: page.items.map((d) => deploymentView(d)),
        ...(page.cursor === undefined ? {} : { nextCursor: page.cursor }),
      };
    },
  );

  app.get(
    '/v1/certificates/:arn/targets',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One certificate on every target it is managed on, with each server',
        description:
          'The certificate’s mappings, read through the table’s certificate index (never a Scan), by target and name, each with what every server its jobs reached holds (one read of the servers table per mapping). Not paginated: a certificate has few targets. An unmanaged certificate has no items. The ARN is one path segment: URL-encode it.',
        tags: ['certificates'],
        security: authenticated,
        params: CertificateParams,
        response: { 200: CertificateTargets, ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const mappings = await fromPort(
        'the mappings table',
        deps.ports.mappings.listByCertificate(request.params.arn),
      );
      const sorted = [...mappings].sort(
        (a, b) =>
          a.target.key.localeCompare(b.target.key) ||
          a.target.value.localeCompare(b.target.value) ||
          a.certName.localeCompare(b.certName),
      );
      const installed = await fromPort(
        'the servers table',
        inBatches(sorted, serverReadsAtOnce, (m) => deps.ports.servers.installed(m)),
      );
      const now = deps.clock.now();
      return {
        items: sorted.map((m, i) => {
          const servers = [...(installed[i] ?? [])].sort((a, b) =>
            a.instanceId.localeCompare(b.instanceId),
          );
          return {
            ...certificateItem(m, now, convergence(m.serial, servers)),
            installedServers: servers.map((s) => installedServerView(s, m.serial)),
          };
        }),
      };
    },
  );

  app.delete(
    '/v1/certificates/:arn/targets/:key/:value/:certName',
    {
      config: { access: 'deploy' },
      schema: {
        summary: 'Stop managing a certificate on a target',
        description:
          'Schedules the mapping’s passphrase secret for deletion (SECRET_RECOVERY_DAYS) and removes the mapping: renewals no longer reach this target. Files already installed on the servers are left as they are. While a deployment of the mapping runs, answers 409 MAPPING_BUSY naming the job and changes nothing. Needs deploy on the target. URL-encode every segment.',
        tags: ['certificates'],
        security: authenticated,
        params: MappingParams,
        response: { 200: StopManagingResult, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      const { arn, key, value, certName } = request.params;
      const target = { key, value };
      requireTarget(request, authorizer, target);
      const mappingKey = { target, certificateArn: arn, certName };
      const mapping = await fromPort('the mappings table', deps.ports.mappings.get(mappingKey));
      if (mapping === undefined) {
        throw new ApiError(
          'MAPPING_NOT_FOUND',
          `${certName} of ${arn} is not managed on ${key}=${value}`,
        );
      }
      const busy = (holder: string, until: string) =>
        new ApiError(
          'MAPPING_BUSY',
          `deployment ${holder} of ${certName} on ${key}=${value} is running (its lock lasts until ${until} at the latest); stop managing it once that job has ended`,
        );
      const now = deps.clock.now();
      if (mapping.lock !== undefined && mapping.lock.until >= now.toISOString()) {
        throw busy(mapping.lock.jobId, mapping.lock.until);
      }
      const recoveryWindowDays = deps.config.secrets.deletionRecoveryDays;
      // Secret first: if removing the mapping then fails, a retry finds the mapping and finishes.
      // A mapping whose first deployment never finished may not record its secret: its name is
      // derived from the mapping (the only name a job ever gives it).
      const secretId =
        mapping.secretArn ?? exportSecretName(deps.config.secrets.prefix, mappingKey);
      const scheduled = await fromPort(
        'the secret store',
        deps.ports.secrets.scheduleDeletion(secretId, recoveryWindowDays),
      );
      // Conditional: a job that took the lock since the read above keeps its mapping and secret.
      const deleted = await fromPort(
        'the mappings table',
        deps.ports.mappings.deleteUnlocked(mappingKey, deps.clock.now()),
      );
      if (deleted.outcome === 'busy') {
        // The job that took the lock in between restores the secret before it writes to it
        // (SecretStore.putNewVersion), as after any stop-managing.
        throw busy(deleted.holder, deleted.until);
      }
      if (deleted.outcome === 'missing') {
        throw new ApiError(
          'MAPPING_NOT_FOUND',
          `${certName} of ${arn} is not managed on ${key}=${value}`,
        );
      }
      // What each server held: a mapping managed again later starts from what its jobs find.
      await fromPort('the servers table', deps.ports.servers.forgetMapping(mappingKey));
      deps.metrics?.mappingForgotten(mappingRef(mappingKey));
      request.log.info(
        { principal: request.identity?.principal, certificateArn: arn, certName, target },
        'stopped managing certificate on target',
      );
      return {
        certificateArn: arn,
        certName,
        target,
        ...(mapping.secretArn === undefined ? {} : { secretArn: mapping.secretArn }),
        secretDeletion: scheduled ? ('scheduled' as const) : ('none' as const),
        recoveryWindowDays,
      };
    },
  );
}
