/**
 * Step 9, encryption policy (EIDAS-RSP-02, EID-R8).
 *
 * - An IdP whose policy is `required` must send an EncryptedAssertion; a plain Assertion is refused
 *   (`SAML_ASSERTION_NOT_ENCRYPTED`, or `EIDAS_ASSERTION_NOT_ENCRYPTED` under the eIDAS profile).
 * - Runs after `in-response-to`, so the refusal names the login and the RP is told.
 */
import { samlError } from '../errors.ts';
import type { VerifyContext } from './context.ts';

export function checkEncryptionPolicy(ctx: VerifyContext): void {
  if (ctx.env.idp.encryptedAssertions !== 'required' || ctx.decrypted || !ctx.assertion) return;
  const code = ctx.env.profile === 'eidas' ? 'EIDAS_ASSERTION_NOT_ENCRYPTED' : 'SAML_ASSERTION_NOT_ENCRYPTED';
  throw samlError(code, { detail: `${ctx.env.idp.id} must encrypt its assertions` });
}
