/**
 * Step 12, SubjectConfirmation (SAML-SCD-01, SAML-RCP-01), Web Browser SSO bearer profile.
 *
 * - Exactly one SubjectConfirmation, Method bearer (`SAML_SUBJECT_CONFIRMATION_INVALID`).
 * - Its Recipient equals our ACS URL exactly (`SAML_RECIPIENT_INVALID`).
 * - NotOnOrAfter is required and not passed (with skew, `SAML_EXPIRED`); NotBefore must be absent.
 */
import { samlError } from '../errors.ts';
import { CM_BEARER } from '../xml/namespaces.ts';
import { instant, need, type VerifyContext } from './context.ts';

export function checkSubjectConfirmation(ctx: VerifyContext): void {
  const confirmations = need(ctx.claims, 'claims').confirmations;
  const [bearer] = confirmations;
  if (confirmations.length !== 1 || !bearer || bearer.method !== CM_BEARER) {
    throw samlError('SAML_SUBJECT_CONFIRMATION_INVALID', {
      detail: `${confirmations.length} confirmations, method ${bearer?.method ?? ''}`,
    });
  }
  if (bearer.recipient !== ctx.env.sp.acsUrl)
    throw samlError('SAML_RECIPIENT_INVALID', { detail: `Recipient ${bearer.recipient ?? 'missing'}` });
  if (bearer.notBefore !== undefined)
    throw samlError('SAML_SUBJECT_CONFIRMATION_INVALID', { detail: 'bearer NotBefore present' });
  if (bearer.notOnOrAfter === undefined)
    throw samlError('SAML_SUBJECT_CONFIRMATION_INVALID', { detail: 'NotOnOrAfter missing' });
  const skew = ctx.env.idp.clockSkewSeconds * 1000;
  if (ctx.env.now.getTime() - skew >= instant(bearer.notOnOrAfter, 'SubjectConfirmationData NotOnOrAfter')) {
    throw samlError('SAML_EXPIRED', { detail: 'SubjectConfirmationData expired' });
  }
}
