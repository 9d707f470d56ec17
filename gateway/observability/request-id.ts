/**
 * Gives every request an id (a valid incoming X-Request-Id is kept, so a login can be followed across
 * instances and proxies), echoes it in the response, and logs one line per request with its outcome.
 */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

const VALID = /^[A-Za-z0-9._-]{8,128}$/;

export function requestId(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = VALID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      logger.info({ requestId: id, method: ctx.method, path: ctx.path, status, ms }, 'request');
    }
  };
}
