/**
 * Step 10, Destination (SAML-DST-01).
 *
 * - Response/@Destination is required and must equal our ACS URL exactly (no case folding, no
 *   trailing-slash tolerance): `SAML_DESTINATION_INVALID`.
 */
import { samlError } from '../errors.ts';
import { need, type VerifyContext } from './context.ts';

export function checkDestination(ctx: VerifyContext): void {
  const destination = need(ctx.envelope, 'envelope').destination;
  if (destination !== ctx.env.sp.acsUrl)
    throw samlError('SAML_DESTINATION_INVALID', { detail: `Destination ${destination ?? 'missing'}` });
}
