/**
 * Step 13, time window (SAML-TIME-01/04), with the IdP's clock skew.
 *
 * - Conditions NotBefore ≤ now + skew (`SAML_NOT_YET_VALID`), NotOnOrAfter > now − skew (`SAML_EXPIRED`).
 * - Assertion and Response IssueInstant, and AuthnInstant, not in the future beyond skew
 *   (`SAML_NOT_YET_VALID`).
 */
import { samlError } from '../errors.ts';
import { instant, need, type VerifyContext } from './context.ts';

export function checkTimeWindow(ctx: VerifyContext): void {
  const claims = need(ctx.claims, 'claims');
  const now = ctx.env.now.getTime();
  const skew = ctx.env.idp.clockSkewSeconds * 1000;
  const { notBefore, notOnOrAfter } = claims.conditions;
  if (notBefore !== undefined && instant(notBefore, 'NotBefore') > now + skew) {
    throw samlError('SAML_NOT_YET_VALID', { detail: `NotBefore ${notBefore}` });
  }
  if (notOnOrAfter !== undefined && instant(notOnOrAfter, 'NotOnOrAfter') <= now - skew) {
    throw samlError('SAML_EXPIRED', { detail: `NotOnOrAfter ${notOnOrAfter}` });
  }
  const issued: [string, string][] = [
    ['Assertion IssueInstant', claims.issueInstant],
    ['Response IssueInstant', need(ctx.envelope, 'envelope').issueInstant],
    ['AuthnInstant', claims.authn.instant],
  ];
  for (const [what, value] of issued) {
    if (instant(value, what) > now + skew) throw samlError('SAML_NOT_YET_VALID', { detail: `${what} ${value}` });
  }
}
