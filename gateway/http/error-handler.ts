/**
 * The one error mapper: a `GatewayError` with `expose` renders its public message and stable code; anything
 * else becomes a generic 500 with a reference. Stack traces and input are never echoed; everything is
 * logged with the request id.
 */
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import { escapeHtml, page } from './html.ts';

export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const requestId = String(ctx.state.requestId ?? '');
      const known = error instanceof GatewayError;
      const status = known ? error.status : 500;
      const code = known && error.expose ? String(error.code) : 'INTERNAL';
      const message = known && error.expose ? error.message : 'Something went wrong on our side.';
      logger[status >= 500 ? 'error' : 'warn']({ requestId, code: known ? error.code : 'INTERNAL', detail: known ? error.detail : undefined, err: error }, 'request failed');
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: code, error_description: message, request_id: requestId };
        return;
      }
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<h1>Sign-in could not continue</h1>
<p>${escapeHtml(message)}</p>
<p>Error code: <code>${escapeHtml(code)}</code> — reference <code>${escapeHtml(requestId)}</code>.</p>
<p>Go back to the service you came from and start again.</p>`);
    }
  };
}
