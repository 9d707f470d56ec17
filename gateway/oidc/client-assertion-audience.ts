/**
 * A `private_key_jwt` (or `client_secret_jwt`) client assertion is accepted only with `aud` = this gateway's issuer,
 * one string (the OpenID Foundation's January 2025 advisory on audience injection; FAPI 2.0 and RFC 7523bis ask the
 * same). oidc-provider also takes the token endpoint's URL, any endpoint's URL, or an array holding one: an RP that
 * uses one key with several authorization servers, one of them hostile (advertising `https://<gateway>/token` as its
 * own token endpoint), would sign an assertion that server could replay here, as the RP, within its `exp`.
 *
 * Upgrade note: an RP that sends the token endpoint's URL as `aud` (OIDC Core's former wording) is refused
 * (`invalid_client`) until it sends the issuer.
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * oidc-provider's `assertJwtClientAuthClaimsAndHeader`.
 *
 * @example
 * configuration.assertJwtClientAuthClaimsAndHeader = assertionAudienceIsTheIssuer;
 */
export async function assertionAudienceIsTheIssuer(ctx: KoaContextWithOIDC, claims: { aud?: unknown }): Promise<void> {
  if (claims.aud !== ctx.oidc.issuer)
    throw new errors.InvalidClientAuth('the client assertion’s audience (aud) must be the issuer identifier, alone');
}
