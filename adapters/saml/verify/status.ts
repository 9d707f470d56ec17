/**
 * Step 9, status (SAML-STA-01).
 *
 * - The top-level StatusCode must be Success; anything else is `SAML_STATUS_NOT_SUCCESS` (the
 *   pending login is known by now, so the RP is told `access_denied`). No assertion is read further.
 */
import { samlError } from '../errors.ts';
import { STATUS_SUCCESS } from '../xml/namespaces.ts';
import { need, type VerifyContext } from './context.ts';

export function checkStatus(ctx: VerifyContext): void {
  const codes = need(ctx.envelope, 'envelope').statusCodes;
  if (codes[0] !== STATUS_SUCCESS) throw samlError('SAML_STATUS_NOT_SUCCESS', { detail: codes.join(' / ') });
  need(ctx.claims, 'claims');
}
