/**
 * Paths this listener never serves (issue #10 item 13): the public listener answers a plain 404 for the
 * operations endpoints (`/ready`, `/metrics`, `/admin` and everything under it), before any handler and
 * whatever the peer address or credential, so nothing behind a same-host reverse proxy can reach them.
 */
import type { Middleware } from 'koa';

/**
 * @example
 * app.use(notServedHere(['/ready', '/metrics', '/admin']));
 */
export function notServedHere(prefixes: readonly string[]): Middleware {
  const matches = (path: string) => prefixes.some((p) => path === p || path.startsWith(`${p}/`));
  return async (ctx, next) => {
    // case and trailing-slash variants count too: routers downstream may be lenient about them
    if (!matches(ctx.path.toLowerCase().replace(/\/+$/, '') || '/')) return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 404;
    ctx.body = 'Not Found';
  };
}
