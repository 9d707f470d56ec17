/**
 * Resource servers (`resourceServers`): the APIs that introspect an RP's access tokens, each with credentials of
 * its own. Without them an RP's resource servers introspect with the RP's own credentials, which also redeem its
 * codes and refresh its tokens; with them a resource server can do nothing but introspect.
 *
 * - `client_id`: distinct from every RP's and every other resource server's;
 * - `client_secret` (a secret reference, ≥ 32 characters), or `token_endpoint_auth_method: "private_key_jwt"`
 *   with `jwks_uri` (and no secret), as for an RP; `client_secret_basic` by default;
 * - `introspects`: the RPs (`client_id`s of `clients`) whose access tokens it may introspect; at least one.
 *
 * It is registered with oidc-provider as a client with no grant, no response type and no redirect URI, so:
 * - the token endpoint refuses it (`invalid_request`, "requested grant type is not allowed for this client");
 * - the authorization endpoint and pushed authorization requests refuse it (it has no redirect URI);
 * - revocation refuses it an RP's token (`invalid_request`);
 * - introspection answers it about the access tokens of the RPs it names only (`oidc/introspection-policy.ts`),
 *   never a refresh token, never another RP's.
 *
 * @example
 * "resourceServers": [{ "client_id": "orders-api", "client_secret": { "env": "GW_ORDERS_API_SECRET" },
 *                       "introspects": ["demo-rp"] }]
 */
import { z } from 'zod';
import { distinctClientIds, httpsUrl, list, oneOf, secret, text } from './fields.ts';
import { parseWith } from './schema-error.ts';

/** A resource server's credentials and the RPs whose access tokens it may introspect. */
export interface ResourceServerEntry {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  jwks_uri?: string;
  introspects: string[];
}

const METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

function resourceServerSchema(env: NodeJS.ProcessEnv, clientIds: readonly string[]) {
  return z
    .strictObject({
      client_id: text(/^[A-Za-z0-9._-]{3,128}$/),
      client_secret: z.unknown().optional(),
      token_endpoint_auth_method: oneOf(METHODS).default('client_secret_basic'),
      jwks_uri: httpsUrl().optional(),
      introspects: list(text(), 1),
    })
    .transform((entry, ctx): ResourceServerEntry => {
      const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      const { client_secret: secretRef, ...rest } = entry;
      const server: ResourceServerEntry = { ...rest };
      if (entry.token_endpoint_auth_method === 'private_key_jwt') {
        if (entry.jwks_uri === undefined) issue(['jwks_uri'], 'is required for private_key_jwt');
        if (secretRef !== undefined) issue(['client_secret'], 'must not be set for private_key_jwt');
      } else {
        if (entry.jwks_uri !== undefined) issue(['jwks_uri'], 'is only for private_key_jwt');
        const read = secret(env, { min: 32 }).safeParse(secretRef);
        if (read.success) server.client_secret = read.data;
        else for (const i of read.error.issues) issue(['client_secret', ...i.path], i.message);
      }
      if (clientIds.includes(entry.client_id))
        issue(['client_id'], `${entry.client_id} is an RP's client_id: a resource server needs credentials of its own`);
      entry.introspects.forEach((id, i) => {
        if (!clientIds.includes(id))
          issue(['introspects', i], `no client ${id} is configured (known: ${clientIds.join(', ')})`);
        else if (entry.introspects.indexOf(id) !== i) issue(['introspects', i], `duplicate ${id}`);
      });
      return server;
    });
}

/**
 * @example
 * const servers = parseResourceServers(raw.resourceServers, config.clients.map((c) => c.client_id), process.env);
 */
export function parseResourceServers(
  raw: unknown,
  clientIds: readonly string[],
  env: NodeJS.ProcessEnv,
): ResourceServerEntry[] {
  const schema = z
    .array(resourceServerSchema(env, clientIds), 'must be an array of resource servers')
    .default([])
    .superRefine(distinctClientIds);
  return parseWith(schema, raw, 'resourceServers');
}
