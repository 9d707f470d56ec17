/**
 * Step 13, time window (SAML-TIME-01/04), with the IdP's clock skew.
 *
 * - Conditions NotBefore ≤ now + skew (`SAML_NOT_YET_VALID`), NotOnOrAfter > now − skew (`SAML_EXPIRED`), and
 *   the AuthnStatement's SessionNotOnOrAfter, when given, > now − skew (`SAML_EXPIRED`: the IdP's session is over;
 *   the gateway keeps it as the end of what stands on this login: SSO, refresh).
 * - Assertion and Response IssueInstant, and AuthnInstant, not in the future beyond skew
 *   (`SAML_NOT_YET_VALID`).
 * - Assertion and Response IssueInstant not older than MAX_MESSAGE_AGE_SECONDS + skew (`SAML_STALE_MESSAGE`):
 *   a message minted long ago and kept valid by generous Conditions is refused (SAML-TIME-04). AuthnInstant
 *   may be older (the IdP's single sign-on session); it is never in the future.
 */
import { samlError } from '../errors.ts';
import { instant, need, type VerifyContext } from './context.ts';

/** The longest a Response may travel between its IdP and us (the pending request itself lives 600 s). */
export const MAX_MESSAGE_AGE_SECONDS = 300;

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
  // the IdP ended the person's session already (SAML Core §2.7.2): nothing may stand on it
  const sessionEnd = claims.authn.sessionNotOnOrAfter;
  if (sessionEnd !== undefined && instant(sessionEnd, 'SessionNotOnOrAfter') <= now - skew) {
    throw samlError('SAML_EXPIRED', { detail: `SessionNotOnOrAfter ${sessionEnd}` });
  }
  const issued: [string, string][] = [
    ['Assertion IssueInstant', claims.issueInstant],
    ['Response IssueInstant', need(ctx.envelope, 'envelope').issueInstant],
    ['AuthnInstant', claims.authn.instant],
  ];
  for (const [what, value] of issued) {
    if (instant(value, what) > now + skew) throw samlError('SAML_NOT_YET_VALID', { detail: `${what} ${value}` });
  }
  for (const [what, value] of issued.slice(0, 2)) {
    if (instant(value, what) < now - skew - MAX_MESSAGE_AGE_SECONDS * 1000) {
      throw samlError('SAML_STALE_MESSAGE', { detail: `${what} ${value}` });
    }
  }
}
