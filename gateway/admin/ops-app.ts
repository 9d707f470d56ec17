/**
 * The operations listener's Koa application (issue #10 item 13): its own port (`ops.listen`), off by
 * default, loopback unless acknowledged. Nothing here is reachable on the public listener, which answers
 * 404 for these paths.
 *
 * 1. requestId, errorHandler — JSON errors with stable codes, whatever the client accepts; a 5xx keeps its code
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
import { GatewayError } from '../errors.ts';
import { healthRoute, readinessRoute } from '../observability/health.ts';
import { requestId } from '../observability/request-id.ts';
import { clusterAwareMetrics } from '../observability/cluster-metrics.ts';
import type { Logger } from 'pino';
import type { OperatorEntry } from '../config/ops.ts';
import type { ReadinessProbes } from '../observability/health.ts';
import type { GatewayMetrics } from '../observability/gateway-metrics.ts';
import type { IdpStatus } from '../../adapters/metadata/monitor.ts';
import { adminRoutes, type ReviewApiDeps } from './admin-routes.ts';
import { idpRoutes } from './idp-routes.ts';
import { metricsRoute } from './metrics-route.ts';
import { revocationRoutes, type Revoker } from './revocation-routes.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { operatorsOf } from './operator-auth.ts';

/** What the operations listener serves from, built once in boot.ts. */
export interface OpsAppDeps {
  /** `ops.operators`: names, roles, credential hashes. */
  operators: readonly OperatorEntry[];
  logger: Logger;
  /** This instance's metrics (request counts; `/metrics`). */
  metrics: GatewayMetrics;
  readiness: ReadinessProbes;
  reviews: ReviewApiDeps;
  /** This instance's metadata monitor's view of every IdP. */
  idpStatus: () => readonly IdpStatus[];
  /** Session revocation over HTTP (`POST /admin/revocations`, role revoker). */
  revocations: { revoker: Revoker; audit: Pick<AuditLog, 'append'> };
}

export function createOpsApp(deps: OpsAppDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  const operators = operatorsOf(deps.operators);
  // no incoming X-Request-Id is kept here: it would be taken before the caller is authenticated
  app.use(requestId(deps.logger, deps.metrics));
  app.use(errorHandler(deps.logger, { forOperators: true }));
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
    // a path nothing serves, a method a route refuses: a JSON code too, as every other answer here
    if (ctx.body == null && ctx.status === 404) throw new GatewayError('NOT_FOUND', 404, 'no such operations path');
    if (ctx.body == null && ctx.status === 405) throw new GatewayError('METHOD_NOT_ALLOWED', 405, 'method not allowed'); // its Allow header stays
  });
  app.use(healthRoute());
  app.use(readinessRoute(deps.readiness));
  app.use(metricsRoute(clusterAwareMetrics(deps.metrics.registry), operators)); // in a cluster worker: every worker's, aggregated by the primary
  app.use(idpRoutes(deps.idpStatus, operators));
  app.use(revocationRoutes(deps.revocations.revoker, operators, deps.revocations.audit));
  app.use(adminRoutes(deps.reviews, operators));
  return app;
}
