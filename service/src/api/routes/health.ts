import { cachedReadiness } from '../readiness.ts';
import { Health, Ready } from '../schemas.ts';
import type { ApiApp, RouteContext } from '../types.ts';

/** Health for the load balancer and orchestrator: no authentication, no detail leaked. */
export function healthRoutes(app: ApiApp, { deps }: RouteContext): void {
  const readiness = cachedReadiness(deps.ports.readiness, deps.clock);
  // Probes come every few seconds from the load balancer and the orchestrator: their requests
  // are not logged, and a failing readiness is logged when it starts and then once a minute,
  // so that an outage does not flood the logs.
  let notReadyLoggedAt: number | undefined;

  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      logLevel: 'warn',
      schema: {
        summary: 'The process is alive',
        tags: ['health'],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      logLevel: 'warn',
      schema: {
        summary: 'The queue and the tables are reachable',
        description: 'Checked at most every 2 s; reasons are logged, not returned.',
        tags: ['health'],
        response: {
          200: { ...Ready, description: 'Ready' },
          503: { ...Ready, description: 'Not ready' },
        },
      },
    },
    async (request, reply) => {
      const result = await readiness();
      const checks: Record<string, 'ok' | 'failing'> = {};
      for (const [name, detail] of Object.entries(result.details)) {
        checks[name] = detail.ok ? 'ok' : 'failing';
      }
      const now = deps.clock.now().getTime();
      if (!result.ok) {
        if (notReadyLoggedAt === undefined || now - notReadyLoggedAt >= 60_000) {
          request.log.warn({ readiness: result.details }, 'not ready');
          notReadyLoggedAt = now;
        }
        reply.code(503);
      } else if (notReadyLoggedAt !== undefined) {
        request.log.warn('ready again');
        notReadyLoggedAt = undefined;
      }
      return { status: result.ok ? ('ready' as const) : ('not-ready' as const), checks };
    },
  );
}
