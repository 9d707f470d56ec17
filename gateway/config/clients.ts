/**
 * The relying parties (OIDC clients), as a zod schema. Every client uses the authorization-code flow with
 * PKCE; redirect URIs are exact, absolute, https (http only on loopback), without fragments. Subjects are
 * pairwise per sector: redirect URIs on several hosts (or ports) need a `sector_identifier_uri` (https only),
 * whose document is checked at boot (oidc/sector-identifiers.ts); without one the client is refused here.
 *
 * - `compatibility.errorResponseIss`: "send" (default, RFC 9207) | "omit" — for mod_auth_openidc ≤ 2.4.12,
 *   which mistakes an error response with `iss` for a third-party-initiated login (oidc/error-iss-compat.ts).
 * - `grant_types`: `["authorization_code"]` by default; a client opts in to refresh tokens (24 h, rotated on
 *   every use, bound to the client and to its DPoP key) with `["authorization_code", "refresh_token"]`.
 * - `client_secret` (a secret reference, ≥ 32 characters) unless `private_key_jwt`, which needs `jwks_uri`
 *   and refuses a secret.
 * - `id_token_signed_response_alg` and `access_token_signed_response_alg` (the JWT access token's `alg`,
 *   RFC 9068): a token row of the `hsm/` registry, RS256 by default (RFC 9068 §2.1: every resource server
 *   supports RS256); an ES256 client sets both to ES256. Boot refuses an algorithm without an active key in
 *   the HSM (`id_token`; for access tokens `access_token`, else `id_token` with a warning), naming the field.
 * - `access_token_format`: "jwt" (default; RFC 9068, a data provider verifies it offline with `/jwks`) | "opaque"
 *   (a random value, no signature: a resource server introspects it, so a revoked session's token is refused there at
 *   once; one HSM signature less per login). `access_token_signed_response_alg` is refused with "opaque".
 */
import { z } from 'zod';
import { TOKEN_ALGORITHMS, type TokenAlgorithmName } from '../../hsm/algorithms.ts';
import { ACR_VALUES } from '../translate/acr.ts';
import { SCOPES } from '../translate/scope-claims.ts';
import { bool, distinctClientIds, httpsUrl, list, oneOf, secret, section, text } from './fields.ts';
import { parseWith } from './schema-error.ts';
import { ACCESS_TOKEN_FORMATS, GRANT_TYPES, type ClientEntry } from './types.ts';
import { SSF_EVENTS } from './ssf.ts';

/** The token rows of the `hsm/` registry; an in-process (experimental) row cannot sign tokens yet. */
const TOKEN_SIGNING_ALGS = TOKEN_ALGORITHMS.map((row) => row.name) as [TokenAlgorithmName, ...TokenAlgorithmName[]];
const METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

const grantTypes = z
  .array(oneOf(GRANT_TYPES), 'must be a non-empty array')
  .min(1, 'must be a non-empty array')
  .superRefine((types, ctx) => {
    types.forEach((type, i) => {
      if (types.indexOf(type) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate ${type}` });
    });
    if (!types.includes('authorization_code'))
      ctx.addIssue({ code: 'custom', message: 'must include authorization_code (the only way to a first token)' });
  });

function clientSchema(env: NodeJS.ProcessEnv) {
  return z
    .strictObject({
      client_id: text(/^[A-Za-z0-9._-]{3,128}$/),
      client_name: text().optional(),
      client_secret: z.unknown().optional(),
      token_endpoint_auth_method: oneOf(METHODS).default('client_secret_basic'),
      jwks_uri: httpsUrl().optional(),
      redirect_uris: list(httpsUrl(), 1),
      post_logout_redirect_uris: list(httpsUrl()).default([]),
      id_token_signed_response_alg: oneOf(TOKEN_SIGNING_ALGS).default('RS256'),
      access_token_format: oneOf(ACCESS_TOKEN_FORMATS).default('jwt'),
      access_token_signed_response_alg: oneOf(TOKEN_SIGNING_ALGS).optional(),
      default_acr_values: list(oneOf(ACR_VALUES)).default([]),
      minimum_acr: oneOf(ACR_VALUES).optional(),
      scope: text().default('openid profile birth email'),
      compatibility: section({ errorResponseIss: oneOf(['send', 'omit'] as const).default('send') }),
      // OIDC Core §8.1: fetched over https, whatever the host (no loopback exception)
      sector_identifier_uri: httpsUrl({ allowHttpLoopback: false }).optional(),
      grant_types: grantTypes.default(['authorization_code']),
      // Back-Channel Logout 1.0 §2.2: absolute, no fragment
      backchannel_logout_uri: httpsUrl().optional(),
      backchannel_logout_session_required: bool().default(true),
      // Shared Signals: CAEP events pushed to the RP's receiver (config/ssf.ts)
      ssf: z
        .strictObject({
          endpoint: httpsUrl().refine((u) => !u.includes('#'), 'must not have a fragment'),
          events: list(oneOf(SSF_EVENTS), 1).superRefine((events, ctx) => {
            events.forEach((event, i) => {
              if (events.indexOf(event) !== i)
                ctx.addIssue({ code: 'custom', path: [i], message: `duplicate ${event}` });
            });
          }),
        })
        .optional(),
    })
    .transform((c, ctx): ClientEntry => {
      const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      const { client_secret: secretRef, client_name, ...rest } = c;
      const client: ClientEntry = {
        ...rest,
        client_name: client_name ?? c.client_id,
        access_token_signed_response_alg: c.access_token_signed_response_alg ?? 'RS256',
      };
      if (c.access_token_format === 'opaque' && c.access_token_signed_response_alg !== undefined)
        issue(
          ['access_token_signed_response_alg'],
          'has no meaning with access_token_format "opaque" (its access tokens are not signed): remove it',
        );
      if (c.token_endpoint_auth_method === 'private_key_jwt') {
        if (c.jwks_uri === undefined) issue(['jwks_uri'], 'is required for private_key_jwt');
        if (secretRef !== undefined) issue(['client_secret'], 'must not be set for private_key_jwt');
      } else {
        const read = secret(env, { min: 32 }).safeParse(secretRef);
        if (read.success) client.client_secret = read.data;
        else for (const i of read.error.issues) issue(['client_secret', ...i.path], i.message);
      }
      const hosts = [...new Set(c.redirect_uris.map((u) => new URL(u).host))];
      if (hosts.length > 1 && c.sector_identifier_uri === undefined)
        issue(
          ['sector_identifier_uri'],
          `client ${c.client_id}: redirect_uris span several hosts (${hosts.join(', ')}); pairwise subjects need a sector_identifier_uri listing every redirect URI (OIDC Core §8.1)`,
        );
      const scopes = c.scope.split(' ');
      if (!scopes.includes('openid')) issue(['scope'], 'must include openid');
      const unknown = scopes.filter((scope) => !SCOPES.includes(scope));
      if (unknown.length > 0) issue(['scope'], `unknown scope ${unknown.join(', ')} (known: ${SCOPES.join(' ')})`);
      return client;
    });
}

/** The clients list: at least one, `client_id`s distinct. */
export function clientsSchema(env: NodeJS.ProcessEnv) {
  return z
    .array(clientSchema(env), 'must be a non-empty array of clients')
    .min(1, 'must be a non-empty array of clients')
    .superRefine(distinctClientIds);
}

/**
 * @example
 * const clients = parseClients(raw.clients, 'clients', process.env);
 */
export function parseClients(raw: unknown, path: string, env: NodeJS.ProcessEnv): ClientEntry[] {
  return parseWith(clientsSchema(env), raw, path);
}
