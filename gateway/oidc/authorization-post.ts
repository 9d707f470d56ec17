/**
 * POST to the authorization endpoint (OpenID Connect Core §3.1.2.1: GET and POST must both work).
 *
 * - a form-encoded POST to `/auth` is read (size-capped, duplicate parameters refused) and handed to
 *   oidc-provider as the equivalent GET, so both methods run the very same checks;
 * - parameters travel in the body only: a POST that also carries a query string is refused
 *   (`REQUEST_INVALID`), as mixing the two is a parameter-confusion vector;
 * - nothing depends on the session cookie arriving: a cross-site POST does not carry the SameSite=Lax
 *   session cookie, and the request then simply starts a new login (oidc-provider's own POST support
 *   would require SameSite=None session cookies, which we do not hand out).
 */
import type { Context, Middleware } from 'koa';
import { GatewayError } from '../errors.ts';
import { readForm } from '../http/read-form.ts';

/** oidc-provider's default route for the authorization endpoint (provider.ts keeps the defaults). */
export const AUTHORIZATION_PATH = '/auth';
/** Larger than any sane authorization request (request objects included), far below a DoS. */
const LIMIT_BYTES = 64 * 1024;

/**
 * An authorization request by POST turned into the GET it stands for (the request is left alone otherwise). The rate
 * limiter calls it once the address's buckets admitted the request (ratelimit/middleware.ts), then takes the RP's.
 */
export async function readPostedAuthorization(ctx: Context): Promise<void> {
  if (ctx.method !== 'POST' || ctx.path !== AUTHORIZATION_PATH) return;
  if (ctx.querystring !== '') {
    throw new GatewayError(
      'REQUEST_INVALID',
      400,
      'an authorization request by POST carries its parameters in the body only',
    );
  }
  const form = await readForm(ctx, LIMIT_BYTES);
  ctx.method = 'GET';
  ctx.querystring = new URLSearchParams(form).toString();
}

/** The same, as a middleware: after the rate limits (which have read it already unless they are off). */
export function authorizationPost(): Middleware {
  return async (ctx, next) => {
    await readPostedAuthorization(ctx);
    return next();
  };
}
