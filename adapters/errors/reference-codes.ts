/**
 * The codes of the reference adapter (`adapters/reference/`), one per check of its verification table: the
 * template for a new protocol's list. Each code is one failure a test can name; none is reused for another.
 */
import type { AdapterErrorSpec } from './spec.ts';

export type ReferenceErrorCode =
  | 'REF_TRANSPORT_INVALID'
  | 'REF_ALG_NOT_ALLOWED'
  | 'REF_SIGNATURE_INVALID'
  | 'REF_ASSERTION_INVALID'
  | 'REF_ISSUER_INVALID'
  | 'REF_AUDIENCE_INVALID'
  | 'REF_NOT_YET_VALID'
  | 'REF_EXPIRED'
  | 'REF_REPLAY'
  | 'REF_STATE_UNKNOWN'
  | 'REF_STATE_SESSION_MISMATCH'
  | 'REF_NONCE_MISMATCH'
  | 'REF_LOA_UNKNOWN'
  | 'REF_LOA_INSUFFICIENT'
  | 'REF_LOA_UNAVAILABLE'
  | 'REF_AUTHN_TOO_OLD'
  | 'REF_CONFIG_INVALID'
  | 'REF_LOGOUT_UNSUPPORTED';

const REFUSED = {
  kind: 'refused',
  fr: 'La réponse du fournisseur d’identité a été refusée.',
  en: 'The identity provider’s answer was refused.',
} as const;

/** One row per code: a code without a row, or a row without a code, does not type-check. */
export const REFERENCE_ERRORS: Readonly<Record<ReferenceErrorCode, AdapterErrorSpec>> = {
  REF_TRANSPORT_INVALID: REFUSED,
  REF_ALG_NOT_ALLOWED: REFUSED,
  REF_SIGNATURE_INVALID: REFUSED,
  REF_ASSERTION_INVALID: REFUSED,
  REF_ISSUER_INVALID: REFUSED,
  REF_AUDIENCE_INVALID: REFUSED,
  REF_NOT_YET_VALID: REFUSED,
  REF_EXPIRED: REFUSED,
  REF_REPLAY: REFUSED,
  REF_STATE_UNKNOWN: REFUSED,
  REF_STATE_SESSION_MISMATCH: REFUSED,
  REF_NONCE_MISMATCH: REFUSED,
  REF_LOA_UNKNOWN: REFUSED,
  REF_LOA_INSUFFICIENT: REFUSED,
  REF_LOA_UNAVAILABLE: {
    kind: 'refused',
    fr: 'Ce fournisseur d’identité ne peut pas atteindre le niveau demandé.',
    en: 'This identity provider cannot reach the level required.',
  },
  REF_AUTHN_TOO_OLD: {
    kind: 'reauthenticate',
    fr: 'L’authentification est plus ancienne que ce que le service accepte.',
    en: 'The authentication is older than the service accepts.',
  },
  REF_LOGOUT_UNSUPPORTED: {
    kind: 'unavailable',
    fr: 'Ce fournisseur d’identité ne permet pas la déconnexion unique.',
    en: 'This identity provider does not offer single logout.',
  },
  REF_CONFIG_INVALID: {
    kind: 'config',
    fr: 'La configuration du fournisseur d’identité n’est pas valide.',
    en: 'The identity provider configuration is invalid.',
  },
};
