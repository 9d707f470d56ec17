/**
 * Gives every request an id (a valid incoming X-Request-Id is kept when the request comes from a proxy of our own,
 * `keepsIncoming`, so a login can be followed across instances and proxies; anyone else's is replaced: the id names
 * audit trails, `request:<id>`, `slo:<id>`, and the reference on error pages, which a client must not choose),
 * echoes it in the response, logs one line per request with its outcome, and
 * counts it in `gateway_http_requests_total` and times it in `gateway_http_request_duration_seconds` under its
 * route pattern (never its raw path).
 */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { routeLabel } from './route-label.ts';

const VALID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * @param keepsIncoming whether a request from this TCP peer may bring its own id (the public listener: the
 *   configured `trustedProxies`; by default nobody: the operations listener keeps none, since it would be taken
 *   before the operator is authenticated, and the id it answers is the one to quote)
 */
export function requestId(
  logger: Logger,
  metrics?: GatewayMetrics,
  keepsIncoming: (peer: string) => boolean = () => false,
): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = VALID.test(incoming) && keepsIncoming(ctx.req.socket.remoteAddress ?? '') ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      const elapsed = performance.now() - started;
      const ms = Math.round(elapsed * 10) / 10;
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      // an operator's request (the operations listener) names who made it: a read of the review queue is theirs too
      const operator = typeof ctx.state.operator === 'string' ? { operator: ctx.state.operator } : {};
      logger.info({ requestId: id, method: ctx.method, path: ctx.path, status, ms, ...operator }, 'request');
      metrics?.httpRequest(ctx.method, routeLabel(ctx.path), status, elapsed / 1000);
    }
  };
}
