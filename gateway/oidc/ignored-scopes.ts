/**
 * Logs each scope of an authorization (or PAR) request that the gateway does not know, after oidc-provider
 * handled the request: OIDC Core §3.1.2.1 says such a scope SHOULD be ignored — it releases nothing and is
 * not granted (oidc-provider drops it from the request's parameters) — and here it is never ignored silently.
 */
import type { Logger } from 'pino';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { unknownScopes } from '../translate/scope-claims.ts';

const AUTHORIZATION_ROUTES: ReadonlySet<string> = new Set(['authorization', 'pushed_authorization_request']);

/**
 * Logs each unknown scope of an authorization (or PAR) request once, after oidc-provider handled it.
 *
 * @example observeIgnoredScopes(provider, logger);
 */
export function observeIgnoredScopes(provider: Provider, logger: Logger): void {
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (!AUTHORIZATION_ROUTES.has(String(ctx.oidc?.route ?? ''))) return;
    // the scope as the RP sent it: oidc-provider drops unknown scopes from its own params
    const sent =
      ctx.method === 'POST' ? (ctx.oidc.body as Record<string, unknown> | undefined)?.scope : ctx.query.scope;
    const ignored = unknownScopes(sent);
    if (ignored.length === 0) return;
    const requestId = String(ctx.res.getHeader('x-request-id') ?? '') || undefined;
    logger.info(
      {
        event: 'scope_ignored',
        // what the request said, unauthenticated: bounded (ten scopes of 64 characters, a client_id of 64)
        scopes: ignored.slice(0, 10).map((s) => s.slice(0, 64)),
        client_id: String(ctx.oidc.client?.clientId ?? ctx.oidc.params?.client_id ?? '').slice(0, 64),
        requestId,
      },
      'scope ignored',
    );
  });
}
