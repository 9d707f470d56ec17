/**
 * The stable codes of the SAML adapters (security-conformance.md §1) and, for each, what kind of failure it
 * is and its public message in French and English (`./spec.ts`). A leaf: the adapter contract's closed
 * list of codes (`../errors.ts`) includes this one; `errors.ts` here throws them.
 */
import type { AdapterErrorSpec } from './spec.ts';

/** Every reason a SAML message, metadata file or configuration is refused. Each is distinct. */
export type SamlErrorCode =
  | 'SAML_TRANSPORT_INVALID'
  | 'SAML_TOO_LARGE'
  | 'SAML_RELAYSTATE_INVALID'
  | 'SAML_DTD_FORBIDDEN'
  | 'SAML_MALFORMED_XML'
  | 'SAML_SCHEMA_INVALID'
  | 'SAML_DUPLICATE_ID'
  | 'SAML_MULTIPLE_ASSERTIONS'
  | 'SAML_ASSERTION_MISSING'
  | 'SAML_SIGNATURE_WRAPPING'
  | 'SAML_ISSUER_UNTRUSTED'
  | 'SAML_ISSUER_INVALID'
  | 'SAML_SIGNATURE_MISSING'
  | 'SAML_ASSERTION_NOT_SIGNED'
  | 'SAML_RESPONSE_NOT_SIGNED'
  | 'SAML_SIGNATURE_INVALID'
  | 'SAML_SIGNATURE_UNTRUSTED_KEY'
  | 'SAML_ALG_NOT_ALLOWED'
  | 'SAML_TRANSFORM_NOT_ALLOWED'
  | 'SAML_COMMENT_IN_IDENTITY'
  | 'SAML_NAMEID_INVALID'
  | 'SAML_NAMEID_FORMAT_MISMATCH'
  | 'SAML_PROXY_RESTRICTED'
  | 'SAML_REPLAY'
  | 'SAML_UNSOLICITED'
  | 'SAML_INRESPONSETO_UNKNOWN'
  | 'SAML_INRESPONSETO_MISMATCH'
  | 'SAML_INRESPONSETO_SESSION_MISMATCH'
  | 'SAML_INRESPONSETO_EXPIRED'
  | 'SAML_STATUS_NOT_SUCCESS'
  | 'SAML_DESTINATION_INVALID'
  | 'SAML_AUDIENCE_INVALID'
  | 'SAML_RECIPIENT_INVALID'
  | 'SAML_SUBJECT_CONFIRMATION_INVALID'
  | 'SAML_NOT_YET_VALID'
  | 'SAML_STALE_MESSAGE'
  | 'SAML_AUTHN_TOO_OLD'
  | 'SAML_AUTHN_NOT_FRESH'
  | 'SAML_EXPIRED'
  | 'SAML_LOA_INVALID'
  | 'SAML_LOA_UNAVAILABLE'
  | 'SAML_METADATA_INVALID'
  | 'SAML_CONFIG_INVALID'
  | 'SAML_SIGNING_FAILED'
  | 'SAML_SIGNING_KEY_UNAVAILABLE'
  | 'SAML_INTERNAL_ERROR'
  // encryption (security-conformance.md §3.1 step 6)
  | 'SAML_ENCRYPTED_ASSERTION_FORBIDDEN'
  | 'SAML_ASSERTION_NOT_ENCRYPTED'
  | 'SAML_ENC_ALG_NOT_ALLOWED'
  | 'SAML_ENC_KEY_AGREEMENT_UNSUPPORTED'
  | 'SAML_DECRYPTION_FAILED'
  | 'SAML_DECRYPTION_KEY_MISSING'
  // per-IdP policy
  | 'SAML_LOA_NOT_ALLOWED'
  // metadata lifecycle
  | 'SAML_METADATA_SIGNATURE_MISSING'
  | 'SAML_METADATA_SIGNATURE_INVALID'
  | 'SAML_METADATA_UNTRUSTED'
  | 'SAML_METADATA_EXPIRED'
  | 'SAML_METADATA_ROLLBACK'
  | 'SAML_METADATA_ENTITY_CHANGED'
  | 'SAML_METADATA_KEY_TOO_WEAK'
  | 'SAML_KEY_TOO_WEAK'
  | 'SAML_METADATA_FETCH_FAILED'
  | 'SAML_METADATA_ENTITY_NOT_FOUND'
  | 'SAML_IDP_UNAVAILABLE'
  /** The IdP's metadata offers no binding we may send the AuthnRequest with (or not the one configured). */
  | 'SAML_BINDING_UNAVAILABLE'
  // Single Logout (issue #12 item 6): LogoutRequest / LogoutResponse from an IdP
  | 'SAML_LOGOUT_ISSUER_UNKNOWN'
  | 'SAML_LOGOUT_ISSUER_INVALID'
  | 'SAML_LOGOUT_SIGNATURE_MISSING'
  | 'SAML_LOGOUT_SIGNATURE_INVALID'
  | 'SAML_LOGOUT_DESTINATION_INVALID'
  | 'SAML_LOGOUT_NOT_YET_VALID'
  | 'SAML_LOGOUT_EXPIRED'
  | 'SAML_LOGOUT_REPLAYED'
  | 'SAML_LOGOUT_UNKNOWN_SESSION'
  | 'SAML_LOGOUT_INRESPONSETO_UNKNOWN'
  | 'SAML_LOGOUT_STATUS_NOT_SUCCESS'
  /** The IdP's metadata lists no SingleLogoutService we can use: its session is not ended by us. */
  | 'SAML_LOGOUT_UNSUPPORTED'
  // eIDAS profile (security-conformance.md §5)
  | 'EIDAS_LOA_INSUFFICIENT'
  | 'EIDAS_LOA_NOT_NOTIFIED'
  | 'EIDAS_MANDATORY_ATTRIBUTE_MISSING'
  | 'EIDAS_ATTRIBUTE_INVALID'
  | 'EIDAS_ATTRIBUTE_NAME_FORMAT_INVALID'
  | 'EIDAS_PERSON_IDENTIFIER_INVALID'
  | 'EIDAS_LEGAL_PERSON_ATTRIBUTE_MISSING'
  | 'EIDAS_ASSERTION_NOT_ENCRYPTED'
  | 'EIDAS_RESPONSE_NOT_SIGNED'
  | 'EIDAS_CONFIG_INVALID';

const REFUSED = {
  kind: 'refused',
  fr: 'La réponse du fournisseur d’identité a été refusée.',
  en: 'The SAML response was refused.',
} as const;
const TOO_OLD = {
  kind: 'reauthenticate',
  fr: 'L’authentification est plus ancienne que ce que le service accepte.',
  en: 'The authentication is older than the service accepts.',
} as const;
const UNAVAILABLE = {
  kind: 'unavailable',
  fr: 'Ce fournisseur d’identité est indisponible pour le moment.',
  en: 'This identity provider is unavailable at the moment.',
} as const;
const METADATA = {
  kind: 'config',
  fr: 'Les métadonnées du fournisseur d’identité ont été refusées.',
  en: 'Identity provider metadata was refused.',
} as const;
const LOGOUT_REFUSED = {
  kind: 'refused',
  fr: 'Le message de déconnexion du fournisseur d’identité a été refusé.',
  en: 'The logout message from the identity provider was refused.',
} as const;
const INTERNAL = {
  kind: 'internal',
  fr: 'La connexion n’a pas pu aboutir de notre fait.',
  en: 'Something went wrong on our side.',
} as const;

/** One row per code: a code without a row, or a row without a code, does not type-check. */
export const SAML_ERRORS: Readonly<Record<SamlErrorCode, AdapterErrorSpec>> = {
  SAML_TRANSPORT_INVALID: REFUSED,
  SAML_TOO_LARGE: REFUSED,
  SAML_RELAYSTATE_INVALID: REFUSED,
  SAML_DTD_FORBIDDEN: REFUSED,
  SAML_MALFORMED_XML: REFUSED,
  SAML_SCHEMA_INVALID: REFUSED,
  SAML_DUPLICATE_ID: REFUSED,
  SAML_MULTIPLE_ASSERTIONS: REFUSED,
  SAML_ASSERTION_MISSING: REFUSED,
  SAML_SIGNATURE_WRAPPING: REFUSED,
  SAML_ISSUER_UNTRUSTED: REFUSED,
  SAML_ISSUER_INVALID: REFUSED,
  SAML_SIGNATURE_MISSING: REFUSED,
  SAML_ASSERTION_NOT_SIGNED: REFUSED,
  SAML_RESPONSE_NOT_SIGNED: REFUSED,
  SAML_SIGNATURE_INVALID: REFUSED,
  SAML_SIGNATURE_UNTRUSTED_KEY: REFUSED,
  SAML_ALG_NOT_ALLOWED: REFUSED,
  SAML_TRANSFORM_NOT_ALLOWED: REFUSED,
  SAML_COMMENT_IN_IDENTITY: REFUSED,
  SAML_NAMEID_INVALID: REFUSED,
  SAML_NAMEID_FORMAT_MISMATCH: REFUSED,
  SAML_PROXY_RESTRICTED: REFUSED,
  SAML_REPLAY: REFUSED,
  SAML_UNSOLICITED: REFUSED,
  SAML_INRESPONSETO_UNKNOWN: REFUSED,
  SAML_INRESPONSETO_MISMATCH: REFUSED,
  SAML_INRESPONSETO_SESSION_MISMATCH: REFUSED,
  SAML_INRESPONSETO_EXPIRED: REFUSED,
  SAML_STATUS_NOT_SUCCESS: {
    kind: 'refused',
    fr: 'Le fournisseur d’identité n’a pas authentifié la personne.',
    en: 'The identity provider did not authenticate the user.',
  },
  SAML_DESTINATION_INVALID: REFUSED,
  SAML_AUDIENCE_INVALID: REFUSED,
  SAML_RECIPIENT_INVALID: REFUSED,
  SAML_SUBJECT_CONFIRMATION_INVALID: REFUSED,
  SAML_NOT_YET_VALID: REFUSED,
  SAML_STALE_MESSAGE: REFUSED,
  SAML_AUTHN_TOO_OLD: TOO_OLD,
  SAML_AUTHN_NOT_FRESH: TOO_OLD,
  SAML_EXPIRED: REFUSED,
  SAML_LOA_INVALID: REFUSED,
  SAML_LOA_UNAVAILABLE: REFUSED,
  SAML_METADATA_INVALID: {
    kind: 'config',
    fr: 'Les métadonnées du fournisseur d’identité ne sont pas valides.',
    en: 'Identity provider metadata is invalid.',
  },
  SAML_CONFIG_INVALID: {
    kind: 'config',
    fr: 'La configuration SAML n’est pas valide.',
    en: 'SAML configuration is invalid.',
  },
  SAML_SIGNING_FAILED: INTERNAL,
  // no active saml key of the algorithm this IdP's requests must be signed with (request-signing.ts)
  SAML_SIGNING_KEY_UNAVAILABLE: {
    kind: 'config',
    fr: 'Aucune clé de signature n’est disponible pour ce fournisseur d’identité.',
    en: 'No signing key is available for this identity provider.',
  },
  SAML_INTERNAL_ERROR: INTERNAL,
  // encryption (security-conformance.md §3.1 step 6)
  SAML_ENCRYPTED_ASSERTION_FORBIDDEN: REFUSED,
  SAML_ASSERTION_NOT_ENCRYPTED: REFUSED,
  SAML_ENC_ALG_NOT_ALLOWED: REFUSED,
  SAML_ENC_KEY_AGREEMENT_UNSUPPORTED: REFUSED,
  SAML_DECRYPTION_FAILED: REFUSED,
  SAML_DECRYPTION_KEY_MISSING: INTERNAL,
  // per-IdP policy
  SAML_LOA_NOT_ALLOWED: REFUSED,
  // metadata lifecycle
  SAML_METADATA_SIGNATURE_MISSING: METADATA,
  SAML_METADATA_SIGNATURE_INVALID: METADATA,
  SAML_METADATA_UNTRUSTED: METADATA,
  SAML_METADATA_EXPIRED: METADATA,
  SAML_METADATA_ROLLBACK: METADATA,
  SAML_METADATA_ENTITY_CHANGED: METADATA,
  SAML_METADATA_KEY_TOO_WEAK: METADATA,
  SAML_KEY_TOO_WEAK: REFUSED,
  SAML_METADATA_FETCH_FAILED: UNAVAILABLE,
  SAML_METADATA_ENTITY_NOT_FOUND: METADATA,
  SAML_IDP_UNAVAILABLE: UNAVAILABLE,
  SAML_BINDING_UNAVAILABLE: UNAVAILABLE,
  // Single Logout (issue #12 item 6)
  SAML_LOGOUT_ISSUER_UNKNOWN: LOGOUT_REFUSED,
  SAML_LOGOUT_ISSUER_INVALID: LOGOUT_REFUSED,
  SAML_LOGOUT_SIGNATURE_MISSING: LOGOUT_REFUSED,
  SAML_LOGOUT_SIGNATURE_INVALID: LOGOUT_REFUSED,
  SAML_LOGOUT_DESTINATION_INVALID: LOGOUT_REFUSED,
  SAML_LOGOUT_NOT_YET_VALID: LOGOUT_REFUSED,
  SAML_LOGOUT_EXPIRED: LOGOUT_REFUSED,
  SAML_LOGOUT_REPLAYED: LOGOUT_REFUSED,
  SAML_LOGOUT_UNKNOWN_SESSION: {
    kind: 'refused',
    fr: 'Aucune session ne correspond à cette demande de déconnexion.',
    en: 'No session matches this logout request.',
  },
  SAML_LOGOUT_INRESPONSETO_UNKNOWN: LOGOUT_REFUSED,
  SAML_LOGOUT_STATUS_NOT_SUCCESS: {
    kind: 'refused',
    fr: 'Le fournisseur d’identité n’a pas pu vous déconnecter ; vous êtes déconnecté de la passerelle.',
    en: 'The identity provider could not sign you out; you are signed out of the gateway.',
  },
  SAML_LOGOUT_UNSUPPORTED: {
    kind: 'unavailable',
    fr: 'Ce fournisseur d’identité ne permet pas la déconnexion unique.',
    en: 'This identity provider does not offer single logout.',
  },
  // eIDAS profile (security-conformance.md §5)
  EIDAS_LOA_INSUFFICIENT: REFUSED,
  EIDAS_LOA_NOT_NOTIFIED: REFUSED,
  EIDAS_MANDATORY_ATTRIBUTE_MISSING: REFUSED,
  EIDAS_ATTRIBUTE_INVALID: REFUSED,
  EIDAS_ATTRIBUTE_NAME_FORMAT_INVALID: REFUSED,
  EIDAS_PERSON_IDENTIFIER_INVALID: REFUSED,
  EIDAS_LEGAL_PERSON_ATTRIBUTE_MISSING: REFUSED,
  EIDAS_ASSERTION_NOT_ENCRYPTED: REFUSED,
  EIDAS_RESPONSE_NOT_SIGNED: REFUSED,
  EIDAS_CONFIG_INVALID: {
    kind: 'config',
    fr: 'La configuration eIDAS n’est pas valide.',
    en: 'eIDAS configuration is invalid.',
  },
};
