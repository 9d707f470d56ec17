/**
 * What a gateway session keeps of the upstream authentication it stands on, so that a later authorization
 * through the session (SSO to another RP, `prompt=none`, `max_age` re-use) is decided on it like a first
 * login is decided on the IdP's answer (`translation/`), and so that every token of the session is served the
 * identity that authentication asserted, not the one of the person's latest login elsewhere. Kept sealed with the
 * account in the session store (`oidc/accounts.ts`); IDs, levels and the validated claims, never the assertion.
 */
import type { Acr } from '../translate/acr.ts';
import type { PivotIdentity } from '../translate/pivot-identity.ts';

export interface SessionEvidence {
  /** The gateway login that went upstream and established the session. */
  loginId: string;
  /** Registry id of the IdP that authenticated the person. */
  idp: string;
  /** The acr that upstream authentication reached (the session's). */
  acr: Acr;
  /** AuthnInstant, epoch seconds (the session's `auth_time`). */
  authTime: number;
  /** The upstream message's identifiers, for the audit record of every login that stands on it. */
  issuer: string;
  responseId: string;
  assertionId: string;
  signaturesVerified: number;
  /** The signed device cookie's id at that login (`null` when the browser had none). */
  deviceId: string | null;
  /**
   * The identity that authentication asserted, and the risk score of the latest login on it: what the tokens of
   * this session are served (userinfo, the ID token of a code or a refresh, `fraud_score`), never another login's
   * of the same person (oidc/accounts.ts `AccountStore.ofLogin`). Absent in records written before they were kept.
   */
  pivot?: PivotIdentity;
  fraudScore?: number;
  /** When the login that made this entry saved it, epoch seconds (its keeping counts from there). */
  savedAt?: number;
  /** The assertion was one-time-use (SAML OneTimeUse): kept for its session's tokens, never for an SSO login. */
  oneTimeUse?: boolean;
  /**
   * The relying parties the IdP let this assertion be used for (SAML ProxyRestriction Audience): an SSO login on
   * this session for any other RP goes upstream again, as the first login for it would have been refused.
   */
  onwardAudiences?: string[];
  /**
   * When the IdP said the person's session with it ends (SAML SessionNotOnOrAfter), epoch seconds: no SSO login on
   * this session and no refresh of its tokens after it (the person logs in upstream again).
   */
  sessionNotOnOrAfter?: number;
}
