/**
 * Issue #14: the session-store records one oidc-provider request writes are written to PostgreSQL together,
 * in one round trip and one transaction, before the response leaves (`DurableOidcModels.holdWrites`):
 * oidc-provider saves them one after the other.
 *
 * - the token request: the access token and the refresh token;
 * - the authorization request: with `prompt=none` on a session, the person's identity, the grant and the
 *   session (`completion/sso.ts`); else the session it re-saves;
 * - the resumption after an interaction: the session (ending its old cookie id and saving it under a new one
 *   is one write) and the login's link to its upstream session (`interaction/upstream-logout.ts`).
 *
 * A failed write fails the request (koa answers its error instead of the tokens, the code or the redirect):
 * nothing is handed out that was not stored.
 */
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { DurableOidcModels } from '../session/oidc-models.ts';

/** oidc-provider's paths (`routes.token`, `routes.authorization`; the resumption is `<authorization>/:uid`). */
export interface WritingRoutes {
  token: string;
  authorization: string;
}

export function writeRequestRecordsTogether(
  provider: Provider,
  durable: DurableOidcModels,
  routes: WritingRoutes,
): void {
  const resumption = `${routes.authorization}/`;
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    const writes =
      (ctx.method === 'POST' && ctx.path === routes.token) ||
      ((ctx.method === 'GET' || ctx.method === 'POST') &&
        (ctx.path === routes.authorization || ctx.path.startsWith(resumption)));
    return writes ? durable.holdWrites(next) : next();
  });
}
