/**
 * A path with a percent-encoded character is answered 404 before any limit or route. No path the gateway or
 * oidc-provider serves has one (interaction ids are nanoids, every other segment is a fixed word), but the routers
 * decode a parameter before matching it: `/interaction/%41bc/idp` was routed with the id `Abc` while the rate limiter,
 * which matches the path as written, saw no endpoint of its own and admitted it without a bucket (an HSM-signed
 * AuthnRequest per request, from one address).
 */
import type { Middleware } from 'koa';

/**
 * @example
 * app.use(pathsAsWritten());
 */
export function pathsAsWritten(): Middleware {
  return async (ctx, next) => {
    if (!ctx.path.includes('%')) return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 404;
    ctx.body = 'Not Found';
  };
}
