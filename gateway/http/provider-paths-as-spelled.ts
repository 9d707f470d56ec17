/**
 * oidc-provider routes a path whatever its letter case and with one trailing slash (its router folds both: `/Token/`,
 * `/AUTH`), and answers HEAD with each GET route's handler. The gateway's checks in front of it compare the path as
 * spelled: the rate limits of `/auth`, `/token`, introspection and revocation (ratelimit/endpoints.ts), the HSM
 * shedding of new logins, the sector gate, the resumption, the request's writes together; and the rate limiter takes
 * GET and POST only. A variant spelling, or a HEAD, passed them all and was served: `POST /Token/Introspection/`
 * guessed client secrets without any limit.
 *
 * Mounted just before oidc-provider (app.ts), after every check and route of ours (which pass on what they do not
 * answer as spelled; the resume answers its own HEAD, 405), so only what oidc-provider would serve arrives: a path
 * not spelled as oidc-provider's routes are (lower case, no trailing slash; the one route parameter, the interaction
 * uid of `/auth/:uid`, as given) is answered 404, and so is a HEAD, except for discovery and the JWKS.
 */
import type { Middleware } from 'koa';

/** oidc-provider's resume route as the resumption in front of it matches it (`interaction/resume-completion.ts`). */
const RESUME = /^\/auth\/[A-Za-z0-9_-]{1,64}$/;

/** What a HEAD may ask oidc-provider: documents that change nothing. */
const HEAD_ALLOWED = (path: string) => path.startsWith('/.well-known/') || path === '/jwks';

/**
 * @example
 * app.use(providerPathsAsSpelled());
 * app.use(services.holder.middleware());
 */
export function providerPathsAsSpelled(): Middleware {
  return async (ctx, next) => {
    const { path } = ctx;
    // `/auth/:uid`: the uid is case-sensitive, and of the shape the resumption knows (resume-completion.ts)
    const variant = path.startsWith('/auth/')
      ? !RESUME.test(path)
      : (path.length > 1 && path.endsWith('/')) || path !== path.toLowerCase();
    if (!variant && (ctx.method !== 'HEAD' || HEAD_ALLOWED(path))) return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 404;
    ctx.body = 'Not Found';
  };
}
