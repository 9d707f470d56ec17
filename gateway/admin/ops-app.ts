/**
 * The operations listener's Koa application (issue #10 item 13): its own port (`ops.listen`), off by
 * default, loopback unless acknowledged. Nothing here is reachable on the public listener, which answers
 * 404 for these paths.
 *
 * 1. requestId, errorHandler — as on the public listener (JSON errors with stable codes)
 * 2. no-store, nosniff on every answer
 * 3. /health                  — liveness, no credential
 * 4. /ready                   — readiness (cached probe of PostgreSQL, Redis, HSM), no credential
 * 5. /metrics                 — Prometheus text; an operator with the `metrics` role (in a cluster worker:
 *                               all workers' metrics, aggregated by the primary, cluster-metrics.ts)
 * 6. /admin/idps[/:id]        — IdP status (what the IdP CLI shows); an operator with the `admin` role
 * 7. /admin/revocations       — session revocation (revocation-routes.ts); an operator with the `revoker` role
 * 8. /admin/*                 — the review API and risk counters; per-route roles (admin-routes.ts)
 * 9. anything else            — 404
 */
import Koa from 'koa';
import { errorHandler } from '../http/error-handler.ts';
import { healthRoute, readinessRoute } from '../observability/health.ts';
import { requestId } from '../observability/request-id.ts';
import { clusterAwareMetrics } from '../observability/cluster-metrics.ts';
import type { Services } from '../services.ts';
import type { IdpStatus } from '../../adapters/metadata/monitor.ts';
import { adminRoutes } from './admin-routes.ts';
import { idpRoutes } from './idp-routes.ts';
import { metricsRoute } from './metrics-route.ts';
import { revocationRoutes } from './revocation-routes.ts';
import { operatorsOf } from './operator-auth.ts';

/** `idpStatus`: this instance's metadata monitor's view of every IdP. */
export function createOpsApp(services: Services, idpStatus: () => readonly IdpStatus[]): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  const operators = operatorsOf(services.config.ops.operators);
  app.use(requestId(services.logger, services.metrics));
  app.use(errorHandler(services.logger));
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  app.use(healthRoute());
  app.use(readinessRoute(services));
  app.use(metricsRoute(clusterAwareMetrics(services.metrics.registry), operators)); // in a cluster worker: every worker's, aggregated by the primary
  app.use(idpRoutes(idpStatus, operators));
  app.use(revocationRoutes(services.sessions.revoker, operators, services.audit));
  app.use(adminRoutes(services, operators));
  return app;
}
