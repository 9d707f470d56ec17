/**
 * What a gateway session keeps of the upstream authentication it stands on, so that a later authorization
 * through the session (SSO to another RP, `prompt=none`, `max_age` re-use) is decided on it like a first
 * login is decided on the IdP's answer (`translation/`). Kept sealed with the account in the session store
 * (`oidc/accounts.ts`); IDs and levels only, never the assertion itself.
 */
import type { Acr } from '../translate/acr.ts';

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
}
