import { cachedReadiness } from '../readiness.ts';
import { Health, Ready } from '../schemas.ts';
import type { ApiApp, RouteContext } from '../types.ts';

/** Health for the load balancer and orchestrator: no authentication, no detail leaked. */
export function healthRoutes(app: ApiApp, { deps }: RouteContext): void {
  const readiness = cachedReadiness(deps.ports.readiness, deps.clock);

  app.get(
    '/healthz',
    {
      config: { access: 'public' },
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
      if (!result.ok) {
        request.log.warn({ readiness: result.details }, 'not ready');
        reply.code(503);
      }
      return { status: result.ok ? ('ready' as const) : ('not-ready' as const), checks };
    },
  );
}
