/**
 * Validates the relying parties (OIDC clients). Every client uses the authorization-code flow with PKCE;
 * redirect URIs are exact, absolute, https (http only on loopback), without fragments. Subjects are pairwise
 * per sector: redirect URIs on several hosts (or ports) need a `sector_identifier_uri` (https only), whose
 * document is checked at boot (oidc/sector-identifiers.ts); without one the client is refused here.
 */
import { ConfigError } from '../errors.ts';
import { array, boolean, join, object, oneOf, onlyKeys, optionalString, secret, string, url } from './check.ts';
import { ACR_VALUES, type Acr } from '../translate/acr.ts';
import { GRANT_TYPES, type ClientEntry, type GrantType } from './types.ts';
import { SCOPES } from '../translate/scope-claims.ts';
import { parseSsf } from './ssf.ts';

const KEYS = [
  'client_id',
  'client_name',
  'client_secret',
  'token_endpoint_auth_method',
  'jwks_uri',
  'redirect_uris',
  'post_logout_redirect_uris',
  'id_token_signed_response_alg',
  'default_acr_values',
  'minimum_acr',
  'scope',
  'compatibility',
  'sector_identifier_uri',
  'grant_types',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'ssf',
] as const;
const COMPATIBILITY_KEYS = ['errorResponseIss'] as const;

/**
 * `compatibility`: switches for RP software with known defects, each off by default.
 * - `errorResponseIss`: "send" (default, RFC 9207) | "omit" — for mod_auth_openidc ≤ 2.4.12, which
 *   mistakes an error response with `iss` for a third-party-initiated login (oidc/error-iss-compat.ts).
 */
function parseCompatibility(raw: unknown, at: string): ClientEntry['compatibility'] {
  if (raw === undefined) return { errorResponseIss: 'send' };
  const c = object(raw, at);
  onlyKeys(c, at, COMPATIBILITY_KEYS);
  return { errorResponseIss: oneOf(c, 'errorResponseIss', at, ['send', 'omit'] as const, 'send') };
}
/**
 * `grant_types`: `["authorization_code"]` by default; a client opts in to refresh tokens (24 h, rotated on
 * every use, bound to the client and to its DPoP key) with `["authorization_code", "refresh_token"]`.
 */
function parseGrantTypes(raw: unknown, at: string): GrantType[] {
  if (raw === undefined) return ['authorization_code'];
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError(at, 'must be a non-empty array');
  const out: GrantType[] = [];
  raw.forEach((value, i) => {
    if (typeof value !== 'string' || !(GRANT_TYPES as readonly string[]).includes(value))
      throw new ConfigError(join(at, i), `must be one of ${GRANT_TYPES.join(', ')}`);
    if (out.includes(value as GrantType)) throw new ConfigError(join(at, i), `duplicate ${value}`);
    out.push(value as GrantType);
  });
  if (!out.includes('authorization_code'))
    throw new ConfigError(at, 'must include authorization_code (the only way to a first token)');
  return out;
}
const ID_TOKEN_ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;

export function parseClients(raw: unknown, path: string, env: NodeJS.ProcessEnv): ClientEntry[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError(path, 'must be a non-empty array of clients');
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    const at = join(path, i);
    const c = object(entry, at);
    onlyKeys(c, at, KEYS);
    const clientId = string(c, 'client_id', at, { pattern: /^[A-Za-z0-9._-]{3,128}$/ });
    if (seen.has(clientId)) throw new ConfigError(join(at, 'client_id'), `duplicate client_id ${clientId}`);
    seen.add(clientId);
    const method = oneOf(
      c,
      'token_endpoint_auth_method',
      at,
      ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const,
      'client_secret_basic',
    );
    const client: ClientEntry = {
      client_id: clientId,
      client_name: string(c, 'client_name', at, { default: clientId }),
      token_endpoint_auth_method: method,
      redirect_uris: array(c, 'redirect_uris', at, { min: 1 }).map((u, j) =>
        url(u, join(join(at, 'redirect_uris'), j)),
      ),
      post_logout_redirect_uris: array(c, 'post_logout_redirect_uris', at, { optional: true }).map((u, j) =>
        url(u, join(join(at, 'post_logout_redirect_uris'), j)),
      ),
      id_token_signed_response_alg: oneOf(c, 'id_token_signed_response_alg', at, ID_TOKEN_ALGS, 'RS256'),
      default_acr_values: array(c, 'default_acr_values', at, { optional: true }).map((v, j) => {
        if (typeof v !== 'string' || !(ACR_VALUES as readonly string[]).includes(v)) {
          throw new ConfigError(join(join(at, 'default_acr_values'), j), `must be one of ${ACR_VALUES.join(', ')}`);
        }
        return v as Acr;
      }),
      scope: string(c, 'scope', at, { default: 'openid profile birth email' }),
      compatibility: parseCompatibility(c.compatibility, join(at, 'compatibility')),
      grant_types: parseGrantTypes(c.grant_types, join(at, 'grant_types')),
      backchannel_logout_session_required: boolean(c, 'backchannel_logout_session_required', at, true),
    };
    if (c.backchannel_logout_uri !== undefined) {
      client.backchannel_logout_uri = url(c.backchannel_logout_uri, join(at, 'backchannel_logout_uri'));
      // Back-Channel Logout 1.0 §2.2: absolute, no fragment
      if (new URL(client.backchannel_logout_uri).hash !== '')
        throw new ConfigError(join(at, 'backchannel_logout_uri'), 'must not have a fragment');
    }
    // Shared Signals: CAEP events pushed to the RP's receiver (config/ssf.ts)
    if (c.ssf !== undefined) client.ssf = parseSsf(c.ssf, join(at, 'ssf'));
    if (c.minimum_acr !== undefined) client.minimum_acr = oneOf(c, 'minimum_acr', at, ACR_VALUES);
    if (method === 'private_key_jwt') {
      const jwksUri = optionalString(c, 'jwks_uri', at);
      if (!jwksUri) throw new ConfigError(join(at, 'jwks_uri'), 'is required for private_key_jwt');
      client.jwks_uri = url(jwksUri, join(at, 'jwks_uri'));
      if (c.client_secret !== undefined)
        throw new ConfigError(join(at, 'client_secret'), 'must not be set for private_key_jwt');
    } else {
      client.client_secret = secret(c, 'client_secret', at, env, { min: 32 });
    }
    if (c.sector_identifier_uri !== undefined) {
      // OIDC Core §8.1: fetched over https, whatever the host (no loopback exception)
      client.sector_identifier_uri = url(c.sector_identifier_uri, join(at, 'sector_identifier_uri'), {
        allowHttpLoopback: false,
      });
    }
    const hosts = [...new Set(client.redirect_uris.map((u) => new URL(u).host))];
    if (hosts.length > 1 && client.sector_identifier_uri === undefined) {
      throw new ConfigError(
        join(at, 'sector_identifier_uri'),
        `client ${clientId}: redirect_uris span several hosts (${hosts.join(', ')}); pairwise subjects need a sector_identifier_uri listing every redirect URI (OIDC Core §8.1)`,
      );
    }
    if (!client.scope.split(' ').includes('openid')) throw new ConfigError(join(at, 'scope'), 'must include openid');
    const unknown = client.scope.split(' ').filter((scope) => !SCOPES.includes(scope));
    if (unknown.length > 0)
      throw new ConfigError(join(at, 'scope'), `unknown scope ${unknown.join(', ')} (known: ${SCOPES.join(' ')})`);
    return client;
  });
}
