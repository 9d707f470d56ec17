/**
 * Issue #14: the artefacts a token request stores (the access token and the refresh token) are written to
 * PostgreSQL together, in one round trip and one transaction, before the response leaves
 * (`DurableOidcModels.holdWrites`): oidc-provider saves them one after the other. A failed write fails the
 * request (koa answers its error instead of the tokens): no token is handed out that was not stored.
 */
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { DurableOidcModels } from '../session/oidc-models.ts';

/** `tokenPath`: the token endpoint's path in the provider (oidc-provider's `routes.token`). */
export function writeTokenArtefactsTogether(provider: Provider, durable: DurableOidcModels, tokenPath: string): void {
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    return durable.holdWrites(next);
  });
}
