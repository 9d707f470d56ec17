/**
 * Gives every request an id (a valid incoming X-Request-Id is kept, so a login can be followed across
 * instances and proxies), echoes it in the response, logs one line per request with its outcome, and
 * counts it in `gateway_http_requests_total` and times it in `gateway_http_request_duration_seconds` under its
 * route pattern (never its raw path).
 */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { routeLabel } from './route-label.ts';

const VALID = /^[A-Za-z0-9._-]{8,128}$/;

export function requestId(logger: Logger, metrics?: GatewayMetrics): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = VALID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      const elapsed = performance.now() - started;
      const ms = Math.round(elapsed * 10) / 10;
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      logger.info({ requestId: id, method: ctx.method, path: ctx.path, status, ms }, 'request');
      metrics?.httpRequest(ctx.method, routeLabel(ctx.path), status, elapsed / 1000);
    }
  };
}
