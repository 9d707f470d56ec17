/**
 * Step 14, level of assurance (EIDAS-RSP-01/03).
 *
 * - AuthnContextClassRef must be one of the three eIDAS LoA URIs, exactly (`SAML_LOA_INVALID`); under the
 *   eIDAS profile a non-notified level is `EIDAS_LOA_NOT_NOTIFIED`.
 * - The asserted level is clipped down to the IdP's configured maximum; it is never raised.
 * - The result must be one of the levels this IdP may assert (`allowedLoas`), else `SAML_LOA_NOT_ALLOWED`.
 * - Whether it meets the RP's need is the gateway policy's decision, not the adapter's.
 */
import { samlError } from '../errors.ts';
import { clipLoa, isLoaUri } from '../loa.ts';
import { need, type VerifyContext } from './context.ts';

export function readLoa(ctx: VerifyContext): void {
  const classRef = need(ctx.claims, 'claims').authn.classRef;
  if (ctx.env.profile === 'eidas' && classRef?.startsWith('http://eidas.europa.eu/NotNotified/')) {
    throw samlError('EIDAS_LOA_NOT_NOTIFIED', { detail: `AuthnContextClassRef ${classRef}` });
  }
  if (!isLoaUri(classRef))
    throw samlError('SAML_LOA_INVALID', { detail: `AuthnContextClassRef ${classRef ?? 'missing'}` });
  const loa = clipLoa(classRef, ctx.env.idp.maxLoa);
  if (!ctx.env.idp.allowedLoas.includes(loa))
    throw samlError('SAML_LOA_NOT_ALLOWED', { detail: `${ctx.env.idp.id} may not assert ${loa}` });
  ctx.loa = loa;
}
