/**
 * `features.claimsParameter.assertClaimsParameter`: what an RP may name in the OIDC `claims` parameter.
 *
 * - oidc-provider checks a requested `scope` against the client's registered `scope`, but releases any
 *   claim named in the `claims` parameter once the grant lists it; the gateway's grant lists what the RP
 *   asked. So the registered scope must bound the `claims` parameter too: a claim that belongs to no scope
 *   the client is registered for is refused (`invalid_request`, before any login starts), e.g. `email` or
 *   the legal-person claims for an RP registered for `openid profile`.
 * - Members are `null` or JSON objects (oidc-provider's own rule, kept).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

type ClaimsRequest = { userinfo?: Record<string, unknown>; id_token?: Record<string, unknown> };
type ClientLike = { scope?: string | undefined } | undefined;

const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The assertion for a provider whose scopes release `scopeClaims` (scope → claim names).
 *
 * @example
 * claimsParameter: { enabled: true, assertClaimsParameter: claimsWithinClientScopes({ openid: ['sub'], email: ['email'] }) }
 */
export function claimsWithinClientScopes(scopeClaims: Readonly<Record<string, readonly string[]>>) {
  return async (_ctx: KoaContextWithOIDC, claims: ClaimsRequest, client: ClientLike): Promise<void> => {
    const scopes = (client?.scope ?? '').split(' ').filter(Boolean);
    const allowed = new Set(
      scopes.flatMap((scope) => (Object.hasOwn(scopeClaims, scope) ? [...scopeClaims[scope]!] : [])),
    );
    for (const container of ['userinfo', 'id_token'] as const) {
      const members = claims[container];
      if (members === undefined) continue;
      for (const [name, value] of Object.entries(members)) {
        if (value !== null && !isObject(value))
          throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
        if (!allowed.has(name))
          throw new errors.InvalidRequest(
            `claims.${container}.${name} is outside the scopes this client is registered for`,
          );
      }
    }
  };
}
