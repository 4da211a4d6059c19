/**
 * Which role a request runs under, from the SDK app id in its User-Agent (`app/<id>`, set by
 * service/src/aws/clients.ts). Requests without one of these ids are the tests' own arranging
 * and are neither recorded nor evaluated.
 */
import type { ServiceAppId } from '../../service/src/aws/clients.ts';

export const serviceAppIds = [
  'acm-cert-export',
  'acm-cert-export-api',
  'acm-cert-export-worker',
  'acm-cert-export-waker',
] as const satisfies readonly ServiceAppId[];

export type AppId = (typeof serviceAppIds)[number];

export const apiModes = ['alb', 'apigateway'] as const;
export type ApiMode = (typeof apiModes)[number];

/** The roles the stack gives the service's code. */
export type ServiceRole = 'taskRole' | 'apiFunctionRole' | 'wakerFunctionRole';

export const roleLabels: Readonly<Record<ServiceRole, string>> = {
  taskRole: 'ECS task role',
  apiFunctionRole: 'API Lambda function role',
  wakerFunctionRole: 'worker waker Lambda function role',
};

/**
 * Whose role serves each app id, per API mode. alb: one container runs API and worker, so every
 * id runs as the task role. apigateway: the API is the Lambda function, the worker the ECS task;
 * no process runs both, so the combined id has no role there (it is evaluated in alb mode). The
 * waker exists only where the worker scales to zero, which needs apigateway mode (the bed
 * synthesizes that mode with minTasks=0).
 */
export const roleServing: Readonly<
  Record<ApiMode, Readonly<Record<AppId, ServiceRole | undefined>>>
> = {
  alb: {
    'acm-cert-export': 'taskRole',
    'acm-cert-export-api': 'taskRole',
    'acm-cert-export-worker': 'taskRole',
    'acm-cert-export-waker': undefined,
  },
  apigateway: {
    'acm-cert-export': undefined,
    'acm-cert-export-api': 'apiFunctionRole',
    'acm-cert-export-worker': 'taskRole',
    'acm-cert-export-waker': 'wakerFunctionRole',
  },
};

/** The app ids a role serves in a mode (the requests that can use its grants). */
export function appIdsServedBy(mode: ApiMode, role: ServiceRole): AppId[] {
  return serviceAppIds.filter((id) => roleServing[mode][id] === role);
}

/** The service's app id in a User-Agent header, or undefined (not the service's request). */
export function appIdOf(userAgent: string | undefined): AppId | undefined {
  if (userAgent === undefined) return undefined;
  for (const token of userAgent.split(/\s+/)) {
    if (!token.startsWith('app/')) continue;
    const id = token.slice('app/'.length);
    if ((serviceAppIds as readonly string[]).includes(id)) return id as AppId;
  }
  return undefined;
}

/**
 * A stand-in server's own AWS calls (the AWS CLI in the install script), when the stand-in names
 * the server in them: `AWS_SDK_UA_APP_ID=acm-cert-export-server.<instance-id>` puts
 * `app/acm-cert-export-server.<instance-id>` in the User-Agent. Evaluated against the servers'
 * passphrase policy (ServerAccess), not the service's roles.
 */
export const serverAppIdPrefix = 'acm-cert-export-server.';

/** The instance id a stand-in server's request names, or undefined. */
export function serverInstanceOf(userAgent: string | undefined): string | undefined {
  if (userAgent === undefined) return undefined;
  const token = userAgent.split(/\s+/).find((t) => t.startsWith(`app/${serverAppIdPrefix}`));
  const id = token?.slice(`app/${serverAppIdPrefix}`.length);
  return id !== undefined && /^(i|mi)-[0-9a-f]+$/.test(id) ? id : undefined;
}
