/**
 * Step 12c, NameID format: the identifier is the one this IdP is registered for.
 *
 * - The format decides whether a NameID can key a person (persistent: stable, pairwise per SP; transient:
 *   one session only; emailAddress: reassignable): the IdP's registered `nameIdFormat` (also the one our
 *   NameIDPolicy asked for) must come back. Anything else: `SAML_NAMEID_FORMAT_MISMATCH`.
 * - An IdP registered with `unspecified` asked for no format, and any format is accepted from it.
 */
import { samlError } from '../errors.ts';
import { NAMEID_UNSPECIFIED } from '../xml/namespaces.ts';
import { need, type VerifyContext } from './context.ts';

export function checkNameIdFormat(ctx: VerifyContext): void {
  const expected = ctx.env.idp.nameIdFormat;
  if (expected === NAMEID_UNSPECIFIED) return;
  const received = need(ctx.claims, 'claims').nameId.format;
  if (received !== expected)
    throw samlError('SAML_NAMEID_FORMAT_MISMATCH', { detail: `NameID Format ${received}, registered ${expected}` });
}
