/**
 * Step 14, level of assurance (EIDAS-RSP-01/03).
 *
 * - AuthnContextClassRef must be one of the three eIDAS LoA URIs, exactly (`SAML_LOA_INVALID`).
 * - The asserted level is clipped down to the IdP's configured maximum; it is never raised.
 * - Whether it meets the RP's need is the gateway policy's decision, not the adapter's.
 */
import { samlError } from '../errors.ts';
import { clipLoa, isLoaUri } from '../loa.ts';
import { need, type VerifyContext } from './context.ts';

export function readLoa(ctx: VerifyContext): void {
  const classRef = need(ctx.claims, 'claims').authn.classRef;
  if (!isLoaUri(classRef)) throw samlError('SAML_LOA_INVALID', { detail: `AuthnContextClassRef ${classRef ?? 'missing'}` });
  ctx.loa = clipLoa(classRef, ctx.env.idp.maxLoa);
}
