/**
 * Configuration of the SAML adapters: one `LegacySamlIdpConfig` per IdP (the eIDAS profile extends it),
 * one `SamlSpConfig` for the gateway as SP. Per IdP: attribute names, NameID format, required signatures,
 * accepted signature algorithms, encryption, clock skew, and the LoAs (hence `acr`) it may assert. `validateIdpConfig` fills documented defaults and refuses anything unknown at boot
 * (`SAML_CONFIG_INVALID`), never on a request.
 */
import type { InternalAttribute, LoaUri } from '../contract.ts';
import { samlError } from './errors.ts';
import type { SpMetadataOptions } from './sp-metadata-options.ts';
import { isLoaUri, LOA_ORDER, loaRank } from './loa.ts';
import { REQUEST_BINDING_SETTINGS, type RequestBindingSetting } from './request-binding.ts';
import { allowedSignatureMethod, DEFAULT_SIGNATURE_METHODS } from './xmldsig.ts';
import { NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED } from './xml/namespaces.ts';

/** Which XML signatures a Response must carry for this IdP (SAML-SIG-03). */
export type RequiredSignatures = 'assertion' | 'response' | 'both' | 'either';

/** Whether this IdP's assertions come encrypted (EncryptedAssertion). */
export type EncryptionPolicy = 'forbidden' | 'allowed' | 'required';

export interface LegacySamlIdpConfig {
  /** Registry id (e.g. `demo-idp`). */
  id: string;
  displayName: string;
  /** Path to the IdP's SAML metadata XML (read at boot unless a metadata monitor supplies it). */
  metadataFile?: string;
  /** Highest LoA this IdP may assert; anything higher is clipped down to this. */
  maxLoa: LoaUri;
  /** The relying parties this IdP serves (`UpstreamAdapter.onlyClients`); absent: every one. */
  onlyClients?: readonly string[];
  /** The LoAs this IdP may assert at all (after clipping); default every level up to `maxLoa`. */
  allowedLoas?: LoaUri[];
  /** Tolerance on NotBefore / NotOnOrAfter, seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Oldest AuthnInstant accepted, seconds, whatever the RP asks (`SAML_AUTHN_TOO_OLD`). Default 28800 (8 h). */
  maxAuthenticationAgeSeconds?: number;
  /** Default `'assertion'`. */
  requiredSignatures?: RequiredSignatures;
  /** XML-DSig SignatureMethod URIs accepted from this IdP; default every row of `xmldsig.ts`. */
  signatureAlgorithms?: string[];
  /** Default `'forbidden'`. `'required'` refuses a plain Assertion (`SAML_ASSERTION_NOT_ENCRYPTED`). */
  encryptedAssertions?: EncryptionPolicy;
  /** NameIDPolicy Format we request; default unspecified. */
  nameIdFormat?: string;
  /** Extra received-name → internal-name mappings, checked before the shared attribute map. */
  attributeNames?: Record<string, InternalAttribute>;
  /** How AuthnRequests travel (`request-binding.ts`): from the metadata (POST preferred), or forced. Default `metadata`. */
  authnRequestBinding?: RequestBindingSetting;
}

export interface SamlSpConfig {
  /** Our SP entityID (the Audience IdPs must name). */
  entityId: string;
  /** Our Assertion Consumer Service URL (the Destination and Recipient IdPs must name). */
  acsUrl: string;
  /** Where our SP metadata is published. */
  metadataUrl: string;
  /**
   * Our SingleLogoutService URL (HTTP-Redirect and HTTP-POST), the Destination IdP logout messages must name;
   * absent: no Single Logout (metadata lists none, the adapters have no `logout`).
   */
  sloUrl?: string;
  /** PEM certificate of the KeyStore's active `saml` signing key. */
  signingCertificatePem: string;
  /** PEM certificate of the decryption key (published with use="encryption"), when we decrypt. */
  encryptionCertificatePem?: string;
  /** What else our published metadata carries (next keys, eIDAS extensions); see `sp-metadata.ts`. */
  metadataOptions?: SpMetadataOptions;
}

/** An IdP config with every default applied. */
export interface ResolvedIdpConfig {
  id: string;
  displayName: string;
  metadataFile: string | undefined;
  maxLoa: LoaUri;
  onlyClients?: readonly string[];
  allowedLoas: LoaUri[];
  clockSkewSeconds: number;
  maxAuthenticationAgeSeconds: number;
  requiredSignatures: RequiredSignatures;
  signatureAlgorithms: string[];
  encryptedAssertions: EncryptionPolicy;
  nameIdFormat: string;
  attributeNames: Record<string, InternalAttribute>;
  authnRequestBinding: RequestBindingSetting;
}

/** An IdP's working-day session: older authentications are not believed even without the RP's max_age. */
export const DEFAULT_MAX_AUTHENTICATION_AGE_SECONDS = 8 * 3600;

const POLICIES: readonly RequiredSignatures[] = ['assertion', 'response', 'both', 'either'];
const ENCRYPTION: readonly EncryptionPolicy[] = ['forbidden', 'allowed', 'required'];
const NAMEID_FORMATS: readonly string[] = [NAMEID_UNSPECIFIED, NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_EMAIL];
const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Validates an IdP config and applies defaults (skew 60 s, `requiredSignatures: 'assertion'`, no
 * encryption, every allowed signature method, every LoA up to `maxLoa`).
 *
 * @example
 * const idp = validateIdpConfig({ id: 'demo-idp', displayName: 'Demo', metadataFile, maxLoa });
 */
export function validateIdpConfig(
  config: LegacySamlIdpConfig,
  defaults: { signatureAlgorithms?: readonly string[] } = {},
): ResolvedIdpConfig {
  const bad = (detail: string) => samlError('SAML_CONFIG_INVALID', { detail: `idp ${config.id}: ${detail}` });
  if (!ID.test(config.id)) throw bad('id must be lower-case [a-z0-9_-]');
  if (!config.displayName) throw bad('displayName is required');
  if (!isLoaUri(config.maxLoa)) throw bad(`maxLoa ${config.maxLoa} is not an eIDAS LoA URI`);
  const skew = config.clockSkewSeconds ?? 60;
  if (!Number.isInteger(skew) || skew < 0 || skew > 300) throw bad('clockSkewSeconds must be an integer in 0..300');
  const maxAge = config.maxAuthenticationAgeSeconds ?? DEFAULT_MAX_AUTHENTICATION_AGE_SECONDS;
  if (!Number.isInteger(maxAge) || maxAge < 60) throw bad('maxAuthenticationAgeSeconds must be an integer ≥ 60');
  const policy = config.requiredSignatures ?? 'assertion';
  if (!POLICIES.includes(policy)) throw bad(`requiredSignatures ${String(policy)} is unknown`);
  const encryption = config.encryptedAssertions ?? 'forbidden';
  if (!ENCRYPTION.includes(encryption)) throw bad(`encryptedAssertions ${String(encryption)} is unknown`);
  const algorithms = [...(config.signatureAlgorithms ?? defaults.signatureAlgorithms ?? DEFAULT_SIGNATURE_METHODS)];
  if (algorithms.length === 0) throw bad('signatureAlgorithms must not be empty');
  for (const uri of algorithms)
    if (!allowedSignatureMethod(uri, DEFAULT_SIGNATURE_METHODS)) throw bad(`signature algorithm ${uri} is not allowed`);
  const allowedLoas = [...(config.allowedLoas ?? LOA_ORDER.filter((loa) => loaRank(loa) <= loaRank(config.maxLoa)))];
  if (allowedLoas.length === 0 || !allowedLoas.every(isLoaUri)) throw bad('allowedLoas must list eIDAS LoA URIs');
  if (allowedLoas.some((loa) => loaRank(loa) > loaRank(config.maxLoa))) throw bad('allowedLoas may not exceed maxLoa');
  const nameIdFormat = config.nameIdFormat ?? NAMEID_UNSPECIFIED;
  if (!NAMEID_FORMATS.includes(nameIdFormat)) throw bad(`nameIdFormat ${nameIdFormat} is not supported`);
  const authnRequestBinding = config.authnRequestBinding ?? 'metadata';
  if (!REQUEST_BINDING_SETTINGS.includes(authnRequestBinding))
    throw bad(`authnRequestBinding ${String(authnRequestBinding)} is unknown`);
  return {
    id: config.id,
    displayName: config.displayName,
    metadataFile: config.metadataFile,
    maxLoa: config.maxLoa,
    ...(config.onlyClients === undefined ? {} : { onlyClients: [...config.onlyClients] }),
    allowedLoas,
    clockSkewSeconds: skew,
    maxAuthenticationAgeSeconds: maxAge,
    requiredSignatures: policy,
    signatureAlgorithms: algorithms,
    encryptedAssertions: encryption,
    nameIdFormat,
    attributeNames: { ...(config.attributeNames ?? {}) },
    authnRequestBinding,
  };
}

/** Validates the SP config: absolute http(s) URLs, a certificate PEM. */
export function validateSpConfig(sp: SamlSpConfig): SamlSpConfig {
  for (const [name, value] of [
    ['acsUrl', sp.acsUrl],
    ['metadataUrl', sp.metadataUrl],
    ...(sp.sloUrl === undefined ? [] : ([['sloUrl', sp.sloUrl]] as const)),
  ] as const) {
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      throw samlError('SAML_CONFIG_INVALID', { detail: `sp ${name} must be an absolute http(s) URL` });
    }
  }
  if (!sp.entityId) throw samlError('SAML_CONFIG_INVALID', { detail: 'sp entityId is required' });
  if (sp.encryptionCertificatePem !== undefined && !sp.encryptionCertificatePem.includes('BEGIN CERTIFICATE')) {
    throw samlError('SAML_CONFIG_INVALID', { detail: 'sp encryptionCertificatePem is not a PEM certificate' });
  }
  if (!sp.signingCertificatePem.includes('BEGIN CERTIFICATE')) {
    throw samlError('SAML_CONFIG_INVALID', { detail: 'sp signingCertificatePem is not a PEM certificate' });
  }
  return sp;
}
