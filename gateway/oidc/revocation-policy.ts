/**
 * Who may revoke a token at the revocation endpoint (RFC 7009): its own client only.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * oidc-provider's `features.revocation.allowedPolicy`: a client revokes its own tokens only. Another client's token
 * is answered as one not found (200, nothing revoked), where the library's default refused it (400), which told the
 * caller the token was live.
 *
 * @example
 * configuration.features.revocation = { enabled: true, allowedPolicy: revokesOwnTokensOnly };
 */
export async function revokesOwnTokensOnly(
  _ctx: KoaContextWithOIDC,
  client: { clientId: string },
  token: { clientId?: string },
): Promise<boolean> {
  return token.clientId === client.clientId;
}
