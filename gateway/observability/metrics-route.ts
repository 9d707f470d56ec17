/**
 * GET /metrics — the Prometheus text exposition (format 0.0.4) of the gateway's metrics. Served only to
 * the clients `metrics-access.ts` allows (loopback by default); anyone else gets 403 `METRICS_FORBIDDEN`.
 */
import type { Middleware } from 'koa';
import { GatewayError } from '../errors.ts';
import { metricsAllowed, type MetricsAccess } from './metrics-access.ts';
import { EXPOSITION_CONTENT_TYPE, type MetricsRegistry } from './metrics.ts';

/** The /metrics middleware for `registry` (which includes the other components' registries). */
export function metricsRoute(registry: MetricsRegistry, access: MetricsAccess): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (!metricsAllowed(ctx.req.socket.remoteAddress, access)) throw new GatewayError('METRICS_FORBIDDEN', 403, 'metrics are not served to this client');
    ctx.set('Cache-Control', 'no-store');
    ctx.type = EXPOSITION_CONTENT_TYPE;
    ctx.body = registry.text();
  };
}
