/**
 * Step 13b, authentication freshness: the person authenticated recently enough for what was asked.
 *
 * - AuthnInstant older than the smaller of the RP's `max_age` (carried by the pending request) and the
 *   IdP's `maxAuthenticationAgeSeconds` (default 8 h, applied even when the RP gave none), plus skew:
 *   `SAML_AUTHN_TOO_OLD`.
 * - When our AuthnRequest forced authentication (ForceAuthn="true": `prompt=login`, `max_age`, a step-up,
 *   every eIDAS request), an AuthnInstant earlier than that request (minus skew) means the IdP answered
 *   from an older session: `SAML_AUTHN_NOT_FRESH`.
 * Both carry the loginId (the pending request is bound), so the RP is told `login_required`.
 */
import { samlError } from '../errors.ts';
import { instant, need, type VerifyContext } from './context.ts';

export function checkAuthnFreshness(ctx: VerifyContext): void {
  const claims = need(ctx.claims, 'claims');
  const pending = need(ctx.pending, 'pending request');
  const now = ctx.env.now.getTime();
  const skew = ctx.env.idp.clockSkewSeconds * 1000;
  const authnAt = instant(claims.authn.instant, 'AuthnInstant');
  const maxAgeSeconds = Math.min(
    ctx.env.idp.maxAuthenticationAgeSeconds,
    pending.maxAuthenticationAgeSeconds ?? Infinity,
  );
  if (now - authnAt > maxAgeSeconds * 1000 + skew) {
    throw samlError('SAML_AUTHN_TOO_OLD', {
      detail: `AuthnInstant ${claims.authn.instant} is older than ${maxAgeSeconds} s`,
    });
  }
  if (pending.forceAuthn && authnAt < instant(pending.issuedAt, 'pending issuedAt') - skew) {
    throw samlError('SAML_AUTHN_NOT_FRESH', {
      detail: `AuthnInstant ${claims.authn.instant} precedes the ForceAuthn request of ${pending.issuedAt}`,
    });
  }
}
