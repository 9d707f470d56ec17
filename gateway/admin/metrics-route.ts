/**
 * GET /metrics — the Prometheus text exposition (format 0.0.4) of the gateway's metrics, on the operations
 * listener only, to an operator credential with the `metrics` role (401 `OPS_UNAUTHORIZED`, 403
 * `OPS_FORBIDDEN` otherwise). The peer address grants nothing.
 */
import type { Middleware } from 'koa';
import type { Operators } from './operator-auth.ts';
import type { Registry } from 'prom-client';
import { EXPOSITION_CONTENT_TYPE } from '../observability/metrics.ts';

/** The /metrics middleware for `registry` (which includes the other components' registries). */
export function metricsRoute(registry: Pick<Registry, 'metrics'>, operators: Operators): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    operators.authenticate(ctx, 'metrics');
    ctx.set('Cache-Control', 'no-store');
    ctx.type = EXPOSITION_CONTENT_TYPE;
    ctx.body = await registry.metrics();
  };
}
