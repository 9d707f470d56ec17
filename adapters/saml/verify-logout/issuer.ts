/**
 * Logout step 3, issuer: selects whose keys verify the signature.
 *
 * - A saml:Issuer child is required (optional in the schema; a logout we act on must say who sends it), in
 *   the `entity` format, and must be this IdP's entityID from its current metadata (`SAML_LOGOUT_ISSUER_INVALID`).
 * The value is unsigned here; `read-signed.ts` reads it again from the verified bytes.
 */
import { AdapterError } from '../../contract.ts';
import { samlError } from '../errors.ts';
import { childrenNamed } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import { issuerText } from '../verify/issuer.ts';
import { need } from '../verify/context.ts';
import type { LogoutVerifyContext } from './context.ts';

export function checkLogoutIssuer(ctx: LogoutVerifyContext): void {
  const issuers = childrenNamed(need(ctx.root, 'root'), NS.assertion, 'Issuer');
  if (issuers.length !== 1) throw samlError('SAML_LOGOUT_ISSUER_INVALID', { detail: `${issuers.length} Issuers` });
  const issuer = logoutIssuerText(issuers[0]!);
  if (issuer !== ctx.env.metadata.entityId)
    throw samlError('SAML_LOGOUT_ISSUER_INVALID', { detail: `issuer ${issuer} is not ${ctx.env.idp.id}` });
  ctx.issuer = issuer;
}

/** `issuerText`, with a non-entity Format reported under the logout code. */
export function logoutIssuerText(element: Parameters<typeof issuerText>[0]): string {
  try {
    return issuerText(element);
  } catch (error) {
    if (error instanceof AdapterError && error.code === 'SAML_ISSUER_INVALID')
      throw samlError('SAML_LOGOUT_ISSUER_INVALID', { detail: error.detail });
    throw error;
  }
}
