/**
 * `features.claimsParameter.assertClaimsParameter`: what an RP may name in the OIDC `claims` parameter.
 *
 * - oidc-provider checks a requested `scope` against the client's registered `scope`, but releases any
 *   claim named in the `claims` parameter once the grant lists it; the gateway's grant lists what the RP
 *   asked. So the registered scope must bound the `claims` parameter too: a claim that belongs to no scope
 *   the client is registered for is refused (`invalid_request`, before any login starts), e.g. `email` or
 *   the legal-person claims for an RP registered for `openid profile`.
 * - Members are `null` or JSON objects (oidc-provider's own rule, kept).
 * - An `acr` member says what it asks in the shape OIDC Core §5.5.1 gives: `essential` a boolean, `value` a non-empty
 *   string, `values` a non-empty array of non-empty strings. Anything else is refused (`invalid_request`): the gateway
 *   turned off the library's check of `values` (session-reuse.ts), and a malformed essential acr was read as none
 *   asked, the login then ending at the client's default level without a word, or overriding its `acr_values`.
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
        if (name === 'acr' && value !== null) acrRequestShape(container, value as Record<string, unknown>);
        if (!allowed.has(name))
          throw new errors.InvalidRequest(
            `claims.${container}.${name} is outside the scopes this client is registered for`,
          );
      }
    }
  };
}

const nonEmptyString = (value: unknown) => typeof value === 'string' && value.length > 0;

/** Refuses an `acr` member that is not OIDC Core §5.5.1's shape (`invalid_request`, naming what is wrong). */
function acrRequestShape(container: string, acr: Record<string, unknown>): void {
  const at = `claims.${container}.acr`;
  if (acr.essential !== undefined && typeof acr.essential !== 'boolean')
    throw new errors.InvalidRequest(`${at}.essential must be true or false`);
  if (acr.value !== undefined && !nonEmptyString(acr.value))
    throw new errors.InvalidRequest(`${at}.value must be a non-empty string`);
  if (
    acr.values !== undefined &&
    !(Array.isArray(acr.values) && acr.values.length > 0 && acr.values.every(nonEmptyString))
  )
    throw new errors.InvalidRequest(`${at}.values must be a non-empty array of non-empty strings`);
}
