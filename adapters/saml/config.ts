/**
 * Configuration of the legacy SAML adapter: one `LegacySamlIdpConfig` per IdP, one `SamlSpConfig` for
 * the gateway as SP. `validateIdpConfig` fills documented defaults and refuses anything unknown at boot
 * (`SAML_CONFIG_INVALID`), never on a request.
 */
import type { InternalAttribute, LoaUri } from '../contract.ts';
import { samlError } from './errors.ts';
import { isLoaUri } from './loa.ts';

/** Which XML signatures a Response must carry for this IdP (SAML-SIG-03). */
export type RequiredSignatures = 'assertion' | 'response' | 'both' | 'either';

export interface LegacySamlIdpConfig {
  /** Registry id (e.g. `demo-idp`). */
  id: string;
  displayName: string;
  /** Path to the IdP's SAML metadata XML (entityID, SSO endpoints, signing certificates). */
  metadataFile: string;
  /** Highest LoA this IdP may assert; anything higher is clipped down to this. */
  maxLoa: LoaUri;
  /** Tolerance on NotBefore / NotOnOrAfter, seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Default `'assertion'`. */
  requiredSignatures?: RequiredSignatures;
  /** Extra received-name → internal-name mappings, checked before the shared attribute map. */
  attributeNames?: Record<string, InternalAttribute>;
}

export interface SamlSpConfig {
  /** Our SP entityID (the Audience IdPs must name). */
  entityId: string;
  /** Our Assertion Consumer Service URL (the Destination and Recipient IdPs must name). */
  acsUrl: string;
  /** Where our SP metadata is published. */
  metadataUrl: string;
  /** PEM certificate of the KeyStore's active `saml` signing key. */
  signingCertificatePem: string;
}

/** An IdP config with every default applied. */
export type ResolvedIdpConfig = Required<Omit<LegacySamlIdpConfig, 'attributeNames'>> & {
  attributeNames: Record<string, InternalAttribute>;
};

const POLICIES: readonly RequiredSignatures[] = ['assertion', 'response', 'both', 'either'];
const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Validates an IdP config and applies defaults (skew 60 s, `requiredSignatures: 'assertion'`).
 *
 * @example
 * const idp = validateIdpConfig({ id: 'demo-idp', displayName: 'Demo', metadataFile, maxLoa });
 */
export function validateIdpConfig(config: LegacySamlIdpConfig): ResolvedIdpConfig {
  const bad = (detail: string) => samlError('SAML_CONFIG_INVALID', { detail: `idp ${config.id}: ${detail}` });
  if (!ID.test(config.id)) throw bad('id must be lower-case [a-z0-9_-]');
  if (!config.displayName) throw bad('displayName is required');
  if (!config.metadataFile) throw bad('metadataFile is required');
  if (!isLoaUri(config.maxLoa)) throw bad(`maxLoa ${config.maxLoa} is not an eIDAS LoA URI`);
  const skew = config.clockSkewSeconds ?? 60;
  if (!Number.isInteger(skew) || skew < 0 || skew > 300) throw bad('clockSkewSeconds must be an integer in 0..300');
  const policy = config.requiredSignatures ?? 'assertion';
  if (!POLICIES.includes(policy)) throw bad(`requiredSignatures ${String(policy)} is unknown`);
  return {
    id: config.id,
    displayName: config.displayName,
    metadataFile: config.metadataFile,
    maxLoa: config.maxLoa,
    clockSkewSeconds: skew,
    requiredSignatures: policy,
    attributeNames: { ...(config.attributeNames ?? {}) },
  };
}

/** Validates the SP config: absolute http(s) URLs, a certificate PEM. */
export function validateSpConfig(sp: SamlSpConfig): SamlSpConfig {
  for (const [name, value] of [['acsUrl', sp.acsUrl], ['metadataUrl', sp.metadataUrl]] as const) {
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      throw samlError('SAML_CONFIG_INVALID', { detail: `sp ${name} must be an absolute http(s) URL` });
    }
  }
  if (!sp.entityId) throw samlError('SAML_CONFIG_INVALID', { detail: 'sp entityId is required' });
  if (!sp.signingCertificatePem.includes('BEGIN CERTIFICATE')) {
    throw samlError('SAML_CONFIG_INVALID', { detail: 'sp signingCertificatePem is not a PEM certificate' });
  }
  return sp;
}
