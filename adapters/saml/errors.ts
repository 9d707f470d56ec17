/**
 * The stable codes of the SAML adapters (security-conformance.md §1), and one helper that throws them as
 * the contract's `AdapterError`. Tests and the gateway branch on the code, never on the message.
 */
import { AdapterError } from '../contract.ts';

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
  | 'SAML_METADATA_KEY_TOO_WEAK'
  | 'SAML_KEY_TOO_WEAK'
  | 'SAML_METADATA_FETCH_FAILED'
  | 'SAML_METADATA_ENTITY_NOT_FOUND'
  | 'SAML_IDP_UNAVAILABLE'
  | 'SAML_BINDING_UNAVAILABLE'
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

/** Public messages: short, generic, never echo message content. */
const PUBLIC: Partial<Record<SamlErrorCode, string>> = {
  SAML_STATUS_NOT_SUCCESS: 'The identity provider did not authenticate the user.',
  SAML_METADATA_INVALID: 'Identity provider metadata is invalid.',
  SAML_CONFIG_INVALID: 'SAML configuration is invalid.',
  SAML_IDP_UNAVAILABLE: 'This identity provider is unavailable at the moment.',
  SAML_BINDING_UNAVAILABLE: 'This identity provider is unavailable at the moment.',
  SAML_DECRYPTION_FAILED: 'The SAML response was refused.',
  EIDAS_CONFIG_INVALID: 'eIDAS configuration is invalid.',
};

/**
 * Builds the `AdapterError` for a SAML failure.
 *
 * @example
 * throw samlError('SAML_AUDIENCE_INVALID', { detail: `audience ${value}` });
 */
export function samlError(
  code: SamlErrorCode,
  options: { loginId?: string; detail?: string; cause?: unknown } = {},
): AdapterError {
  return new AdapterError(code, PUBLIC[code] ?? 'The SAML response was refused.', options);
}
