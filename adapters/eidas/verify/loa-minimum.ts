/**
 * eIDAS step 1, level of assurance at least the requested one (EID-R9, `minimum` comparison).
 *
 * - The verified level (already clipped to the IdP's maximum by `loa`) must rank at or above the level
 *   the pending request asked for, else `EIDAS_LOA_INSUFFICIENT`. The adapter refuses here; the gateway
 *   never sees an identity below what was requested.
 */
import { samlError } from '../../saml/errors.ts';
import { loaRank } from '../../saml/loa.ts';
import { need, type VerifyContext } from '../../saml/verify/context.ts';

export function checkLoaMinimum(ctx: VerifyContext): void {
  const asserted = need(ctx.loa, 'loa');
  const requested = need(ctx.pending, 'pending').minimumLoa;
  if (loaRank(asserted) < loaRank(requested)) {
    throw samlError('EIDAS_LOA_INSUFFICIENT', { detail: `asserted ${asserted}, requested ${requested}` });
  }
}
