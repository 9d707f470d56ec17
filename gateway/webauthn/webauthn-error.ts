/**
 * The stable error codes of gateway-side WebAuthn (issue #5, levels 2 and 3). Every refusal of a
 * ceremony carries one of these codes; the library's own messages are kept as `detail` (logged, never
 * rendered).
 */
import { GATEWAY_ERRORS } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';

export type WebAuthnErrorCode =
  /** No live challenge for this interaction and ceremony: expired, never issued, or already used. */
  | 'WEBAUTHN_CHALLENGE_UNKNOWN'
  /** The browser signed for another origin than the issuer's. */
  | 'WEBAUTHN_ORIGIN_MISMATCH'
  /** The authenticator data is for another RP ID than the issuer's hostname. */
  | 'WEBAUTHN_RPID_MISMATCH'
  /** The signature counter of a signed answer did not grow: a cloned authenticator; the key is suspended. */
  | 'WEBAUTHN_COUNTER_REGRESSION'
  /** The key was suspended after a signed answer showed it cloned; it stands in for nothing. */
  | 'WEBAUTHN_CREDENTIAL_SUSPENDED'
  /** The credential is not enrolled for this account (or not of the kind the level requires). */
  | 'WEBAUTHN_CREDENTIAL_UNKNOWN'
  /** Enrolment of a credential id that is already registered (for this or another account). */
  | 'WEBAUTHN_CREDENTIAL_ALREADY_REGISTERED'
  /** The level requires user verification (PIN, biometrics) and the authenticator did not do it. */
  | 'WEBAUTHN_USER_NOT_VERIFIED'
  /** The authenticator is not of the attachment the level requires (level 3: a roaming security key). */
  | 'WEBAUTHN_ATTACHMENT_MISMATCH'
  /** Malformed response, bad signature, or any other verification failure. */
  | 'WEBAUTHN_VERIFICATION_FAILED'
  /** Enrolment is offered only right after a verified login, in the same browser. */
  | 'WEBAUTHN_ENROLMENT_NOT_ALLOWED'
  /** Too many failed assertions for one login. */
  | 'WEBAUTHN_ATTEMPTS_EXHAUSTED'
  /** The account already has a credential: adding one needs an assertion from an existing one first. */
  | 'WEBAUTHN_EXISTING_CREDENTIAL_REQUIRED'
  /** The credential was enrolled for a lower level than the one asked (or before levels existed: level 1). */
  | 'WEBAUTHN_CREDENTIAL_LEVEL_TOO_LOW'
  /** A new credential waits `webauthn.level3CooldownHours` before it can satisfy level 3. */
  | 'WEBAUTHN_CREDENTIAL_COOLING_DOWN'
  /** No attestation root is configured: level 3 via WebAuthn is not available in this deployment. */
  | 'WEBAUTHN_LEVEL3_UNAVAILABLE'
  /** Level 3 needs a verified attestation with a certificate chain (`none` or self attestation refused). */
  | 'WEBAUTHN_ATTESTATION_REQUIRED'
  /** The attestation chain does not end at a configured root, or the model (AAGUID) is not trusted. */
  | 'WEBAUTHN_ATTESTATION_UNTRUSTED';

export class WebAuthnError extends GatewayError {
  declare readonly code: WebAuthnErrorCode;
  constructor(
    code: WebAuthnErrorCode,
    message: string,
    options: { detail?: string; cause?: unknown; status?: number } = {},
  ) {
    super(code, options.status ?? GATEWAY_ERRORS[code].status, message, options);
    this.name = 'WebAuthnError';
  }
}
