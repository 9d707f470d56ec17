/** Configured relying parties → oidc-provider client metadata. Code flow only, pairwise subjects. */
import type { ClientMetadata, SigningAlgorithm } from 'oidc-provider';
import type { ClientEntry } from '../config/types.ts';
import { impliedScopes } from '../translate/scope-claims.ts';

export function toClientMetadata(client: ClientEntry): ClientMetadata {
  const metadata: ClientMetadata = {
    client_id: client.client_id,
    client_name: client.client_name,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    grant_types: [...client.grant_types],
    response_types: ['code'],
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    id_token_signed_response_alg: client.id_token_signed_response_alg as SigningAlgorithm,
    subject_type: 'pairwise',
    // what the registration covers: `profile` also allows `given_name`, … (FranceConnect's single-claim scopes)
    scope: impliedScopes(client.scope),
  };
  if (client.backchannel_logout_uri !== undefined) {
    metadata.backchannel_logout_uri = client.backchannel_logout_uri;
    metadata.backchannel_logout_session_required = client.backchannel_logout_session_required;
  }
  if (client.default_acr_values.length > 0) metadata.default_acr_values = client.default_acr_values;
  if (client.client_secret !== undefined) metadata.client_secret = client.client_secret;
  if (client.jwks_uri !== undefined) metadata.jwks_uri = client.jwks_uri;
  // the pairwise sector is the host of this URI; its document is checked by oidc/sector-identifiers.ts
  if (client.sector_identifier_uri !== undefined) metadata.sector_identifier_uri = client.sector_identifier_uri;
  return metadata;
}
