/**
 * Who introspection answers about a token (oidc-provider's `features.introspection.allowedPolicy`; its default
 * lets any authenticated client introspect any token):
 *
 * - an RP, about its own tokens (access and refresh);
 * - a resource server (`resourceServers`, config/resource-servers.ts), about the access tokens of the RPs it
 *   names, and nothing else: no refresh token (which only its RP redeems), no other RP's token.
 *
 * Anything else is answered `{ "active": false }`, as for a token that does not exist. (The Redis adapter already
 * finds no refresh token for a caller other than its own client: `oidc/redis-adapter.ts`.)
 */
import type { AccessToken, Client, ClientCredentials, ClientMetadata, RefreshToken } from 'oidc-provider';
import type { ResourceServerEntry } from '../config/resource-servers.ts';

type Policy = (ctx: unknown, client: Client, token: AccessToken | ClientCredentials | RefreshToken) => Promise<boolean>;

export function introspectionPolicy(resourceServers: readonly ResourceServerEntry[]): Policy {
  const readers = new Map(resourceServers.map((server) => [server.client_id, new Set(server.introspects)]));
  return async (_ctx, client, token) => {
    if (token.clientId === undefined) return false;
    const introspects = readers.get(client.clientId);
    if (introspects !== undefined) return token.kind === 'AccessToken' && introspects.has(token.clientId);
    return token.clientId === client.clientId;
  };
}

/**
 * oidc-provider metadata of a resource server: a client that can only authenticate (at introspection).
 * `idTokenAlg`: an algorithm of an active ID-token key. It signs nothing for it, but oidc-provider checks the
 * value against the enabled ones when it first finds the client (its default, RS256, may not be one).
 */
export function resourceServerMetadata(server: ResourceServerEntry, idTokenAlg: string): ClientMetadata {
  return {
    client_id: server.client_id,
    id_token_signed_response_alg: idTokenAlg as ClientMetadata['id_token_signed_response_alg'],
    client_name: server.client_id,
    grant_types: [],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: server.token_endpoint_auth_method,
    ...(server.client_secret === undefined ? {} : { client_secret: server.client_secret }),
    ...(server.jwks_uri === undefined ? {} : { jwks_uri: server.jwks_uri }),
  };
}
