/**
 * The closed table of audit-only codes: codes an audit record carries (`AuditRecord.errorCode`, a flow
 * transition's `errorCode`) that are never raised as a `GatewayError` or an `AdapterError`, so they have no
 * HTTP status or page of their own (`error-registry.ts` holds those). Each row says
 *
 * - `audit`: the outcome it stands for (`refused`, `denied`, `error`), as in the error registry;
 * - `meaning`: what happened, for the person reading the audit log.
 *
 * An audit record's code is either registered there or here (`AuditErrorCode`); a free string does not
 * type-check, and `test/gateway/errors/` walks both tables.
 */
import type { AuditOutcome, ErrorCode } from './error-registry.ts';
import { ERROR_CODES } from './error-registry.ts';

export interface AuditOnlySpec {
  readonly audit: AuditOutcome;
  readonly meaning: string;
}

export const AUDIT_ONLY_CODES = {
  // decisions of the policy (the first reason of a `deny` decision, recorded on FAILED)
  RISK_TOO_HIGH: { audit: 'denied', meaning: 'the fraud score reached the deny threshold of the RP and IdP' },
  RISK_STEP_UP_EXHAUSTED: {
    audit: 'denied',
    meaning: 'the login still needed a step-up after the allowed number of step-ups',
  },
  RISK_LATE_VERDICT: {
    audit: 'denied',
    meaning: 'a late correlation verdict (reprocessing) revoked the session of a completed login',
  },
  REVIEW_DENIED: { audit: 'denied', meaning: 'an operator denied the login under manual review' },
  // tokens and sessions
  REFRESH_LOGIN_UNKNOWN: {
    audit: 'refused',
    meaning:
      'a refresh was refused: the person’s record no longer keeps the login behind the token (its score and IdP unknown); the token’s grant was ended (its session may stand on a newer login)',
  },
  REFRESH_UPSTREAM_SESSION_OVER: {
    audit: 'refused',
    meaning:
      'a refresh was refused: the IdP said the person’s session with it ended (SAML SessionNotOnOrAfter); the token’s grant was ended (its session may stand on a newer login)',
  },
  REFRESH_IDP_WITHDRAWN: {
    audit: 'refused',
    meaning:
      'a refresh was refused: the login’s IdP no longer vouches for it (disabled or removed by the operator, not for this client, or its maxLoa now below the login’s level); the grant is ended, but kept when the IdP is only disabled (refused while it is)',
  },
  REFRESH_RISK_TOO_HIGH: {
    audit: 'denied',
    meaning: 'a refresh was refused: the fraud score is at or above the deny level; the session was revoked',
  },
  REFRESH_TOKEN_REUSED: {
    audit: 'refused',
    meaning:
      'a rotated refresh token was presented again; its grant was ended, and its session revoked unless the session is now another person’s',
  },
  SESSION_REVOKED: { audit: 'refused', meaning: 'a token of a revoked session was presented' },
  SESSION_VERSION_STALE: {
    audit: 'refused',
    meaning: 'a token issued under an earlier version of its session was presented',
  },
  SESSION_OF_ANOTHER_PERSON: {
    audit: 'refused',
    meaning:
      'a token issued on a session that is now another person’s (two logins at once on one browser: the last saved won) was presented; its grant was ended',
  },
  SESSION_CLOSED_MEANWHILE: {
    audit: 'refused',
    meaning: 'a login or SSO whose session another request ended or revoked meanwhile: its code was not handed out',
  },
  OIDC_ARTIFACT_REUSED: {
    audit: 'refused',
    meaning: 'an authorization code or other single-use artefact was presented again',
  },
  UPSTREAM_LOGOUT_LOGIN_GONE: {
    audit: 'error',
    meaning:
      'an RP-initiated logout could not ask the IdP of an earlier login of the session: that login’s record is gone (expired or ended)',
  },
  UPSTREAM_LOGOUT_OTHER_PERSON: {
    audit: 'refused',
    meaning:
      'an RP-initiated logout found the session’s upstream record naming another person than the session (two logins at once on one browser): no IdP was asked',
  },
  UPSTREAM_LOGOUT_OTHER_BROWSER: {
    audit: 'refused',
    meaning:
      'an IdP’s verified answer to one leg of a logout with several IdPs came back in another browser, or an IdP’s logout request first unanswered was sent again from another browser, or an IdP’s logout request naming only a NameID ended sessions of other browsers than the one carrying it (`notAskedOn`, and `cause` when none was asked on): the IdPs after it, or those sessions’ other IdPs, were not asked from there',
  },
  BACKCHANNEL_LOGOUT_FAILED: {
    audit: 'error',
    meaning: 'an RP did not accept a back-channel logout token after every attempt',
  },
  SSF_EVENT_REJECTED: {
    audit: 'refused',
    meaning: 'an RP’s Shared Signals receiver refused a security event token (4xx with its err); not re-sent',
  },
  SSF_DELIVERY_FAILED: {
    audit: 'error',
    meaning: 'a security event token could not be delivered to an RP’s receiver after every attempt',
  },
} as const satisfies Record<string, AuditOnlySpec>;

export type AuditOnlyCode = keyof typeof AUDIT_ONLY_CODES;

/** Any code an audit record may carry: a registered error code or an audit-only code. */
export type AuditErrorCode = ErrorCode | AuditOnlyCode;

function isAuditOnlyCode(value: string): value is AuditOnlyCode {
  return Object.hasOwn(AUDIT_ONLY_CODES, value);
}

/** Every audit-only code. */
export const AUDIT_ONLY: readonly AuditOnlyCode[] = Object.keys(AUDIT_ONLY_CODES).filter(isAuditOnlyCode);

/**
 * Whether a value read at run time (a decision's first reason, a stored code) is a code an audit record may
 * carry.
 *
 * @example
 * isAuditErrorCode('RISK_TOO_HIGH'); // true
 * isAuditErrorCode('device:unfamiliar'); // false
 */
export function isAuditErrorCode(value: string): value is AuditErrorCode {
  return isAuditOnlyCode(value) || (ERROR_CODES as readonly string[]).includes(value);
}
