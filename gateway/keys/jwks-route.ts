/**
 * GET /jwks, served by the gateway itself (mounted before oidc-provider, which would serve only the keys
 * of its own generation): the public keys of the token-signing purposes from the key lifecycle, i.e.
 * active, next (published ahead of use) and retired keys (until every token and session they signed
 * has expired).
 *
 * - Public members only (the records hold nothing else); `Cache-Control` max-age stays below the lead
 *   time, so an RP's cached copy always holds a key before it signs.
 */
import type { Middleware } from 'koa';
import type { KeyPurpose, KeyStore } from '../../hsm/signer.ts';

/** Purposes whose keys sign JWTs the RPs verify with `/jwks`. */
export const JWKS_PURPOSES: readonly KeyPurpose[] = Object.freeze(['id_token', 'access_token', 'risk_assessment']);

/** The JWKS document of `keys` (deduplicated by kid, publication order kept). */
export function jwksDocument(keys: KeyStore): { keys: Array<Record<string, string>> } {
  const seen = new Set<string>();
  const out: Array<Record<string, string>> = [];
  for (const purpose of JWKS_PURPOSES) {
    for (const jwk of keys.publishable(purpose)) {
      if (seen.has(jwk.kid)) continue;
      seen.add(jwk.kid);
      out.push(
        Object.fromEntries(Object.entries(jwk).filter(([, value]) => typeof value === 'string')) as Record<
          string,
          string
        >,
      );
    }
  }
  return { keys: out };
}

/**
 * The `/jwks` route.
 *
 * @example
 * ```ts
 * app.use(jwksRoute(() => services.keys, { maxAgeSeconds: 60 }));
 * ```
 */
export function jwksRoute(keys: () => KeyStore, options: { path?: string; maxAgeSeconds?: number } = {}): Middleware {
  const path = options.path ?? '/jwks';
  const maxAge = options.maxAgeSeconds ?? 60;
  return async (ctx, next) => {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set('Cache-Control', `public, max-age=${maxAge}`);
    ctx.type = 'application/jwk-set+json';
    ctx.body = jwksDocument(keys());
  };
}
