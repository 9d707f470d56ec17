/**
 * Configuration of an eIDAS IdP (an eIDAS node's Proxy-Service): the legacy SAML options with the eIDAS
 * profile's defaults and limits (security-conformance.md §5), validated at boot (`EIDAS_CONFIG_INVALID`).
 *
 * - Defaults: Response signature required (EID-R7), assertions encrypted (EID-R8), SignatureMethods
 *   RSA-PSS and ECDSA only (EID-C1), NameIDPolicy unspecified, SPType `public`.
 * - Limits: requiredSignatures `response` or `both`; signature algorithms within the eIDAS list; NameID
 *   format persistent, transient or unspecified (EID-R4).
 * - Requested attributes: the natural-person minimum data set is always requested with
 *   isRequired="true" (EID-R3); `legalPerson: true` adds the legal-person minimum data set, required.
 */
import type { InternalAttribute } from '../contract.ts';
import { validateIdpConfig, type LegacySamlIdpConfig, type ResolvedIdpConfig } from '../saml/config.ts';
import { samlError } from '../saml/errors.ts';
import { NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED } from '../saml/xml/namespaces.ts';
import { EIDAS_SIGNATURE_METHODS } from '../saml/xmldsig.ts';
import { eidasUriOf } from '../attributes/attribute-map.ts';

export interface RequestedAttribute {
  name: InternalAttribute;
  required: boolean;
}

export interface EidasIdpConfig extends LegacySamlIdpConfig {
  /** Sent in the request's `eidas:SPType` (EID-R5). Default `public`. */
  spType?: 'public' | 'private';
  /** Optional attributes to request beyond the minimum data set(s). */
  requestedAttributes?: RequestedAttribute[];
  /** Request and require the legal-person minimum data set (company representatives). */
  legalPerson?: boolean;
  /**
   * ISO 3166-1 alpha-2 country of the Proxy-Service: the XX of PersonIdentifier `XX/YY/…` (EID-R11). Required:
   * without it a node could issue identifiers in any country's name (`EIDAS_CONFIG_INVALID` at boot).
   */
  country?: string;
  /** Our country: the YY of PersonIdentifier. Default `FR`. */
  spCountry?: string;
  /** Always send ForceAuthn="true" (some nodes demand it); otherwise only when the policy asks. */
  alwaysForceAuthn?: boolean;
}

export interface ResolvedEidasConfig extends ResolvedIdpConfig {
  spType: 'public' | 'private';
  requested: RequestedAttribute[];
  legalPerson: boolean;
  country: string;
  spCountry: string;
  alwaysForceAuthn: boolean;
}

/** The natural-person minimum data set (eIDAS SAML Attribute Profile). */
export const NATURAL_MINIMUM: readonly InternalAttribute[] = [
  'person_identifier',
  'family_name',
  'given_name',
  'birthdate',
];
/** The natural-person optional attributes of eIDAS 1.1. */
export const NATURAL_OPTIONAL: readonly InternalAttribute[] = [
  'birth_name',
  'place_of_birth',
  'current_address',
  'gender',
];
/** The legal-person minimum data set. */
export const LEGAL_MINIMUM: readonly InternalAttribute[] = ['legal_person_identifier', 'legal_name'];
/** Every legal-person attribute: asked for, and kept from an answer, only by an entry with `legalPerson: true`. */
export const LEGAL_PERSON: readonly InternalAttribute[] = [
  ...LEGAL_MINIMUM,
  'legal_address',
  'vat_registration_number',
  'tax_reference',
  'lei',
  'eori',
];

const COUNTRY = /^[A-Z]{2}$/;
const NAMEID_FORMATS: readonly string[] = [NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED];

/**
 * Validates an eIDAS IdP config and applies the profile's defaults.
 *
 * @example
 * const idp = validateEidasConfig({ id: 'eidas-de', displayName: 'eIDAS (DE)', metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/high', country: 'DE' });
 */
export function validateEidasConfig(config: EidasIdpConfig): ResolvedEidasConfig {
  const bad = (detail: string) => samlError('EIDAS_CONFIG_INVALID', { detail: `idp ${config.id}: ${detail}` });
  const base = validateIdpConfig(
    { requiredSignatures: 'response', encryptedAssertions: 'required', ...config },
    { signatureAlgorithms: EIDAS_SIGNATURE_METHODS },
  );
  if (base.requiredSignatures !== 'response' && base.requiredSignatures !== 'both')
    throw bad('the Response must be signed (response or both)');
  if (base.encryptedAssertions === 'forbidden') throw bad('encryptedAssertions may not be forbidden');
  for (const uri of base.signatureAlgorithms)
    if (!EIDAS_SIGNATURE_METHODS.includes(uri)) throw bad(`${uri} is not an eIDAS signature algorithm`);
  if (!NAMEID_FORMATS.includes(base.nameIdFormat))
    throw bad(`nameIdFormat ${base.nameIdFormat} is not allowed by eIDAS`);
  // eIDAS nodes receive POST; Redirect only when their metadata offers nothing else (request-binding.ts)
  if (base.authnRequestBinding !== 'metadata')
    throw bad("authnRequestBinding is chosen from the node's metadata (POST unless it offers only Redirect)");
  if (config.alwaysForceAuthn === false)
    throw bad('alwaysForceAuthn cannot be false: every eIDAS request forces a fresh authentication (EID-R1)');
  const spType = config.spType ?? 'public';
  if (spType !== 'public' && spType !== 'private') throw bad('spType must be public or private');
  const spCountry = config.spCountry ?? 'FR';
  if (typeof config.country !== 'string')
    throw bad("country is required: the node's country, the XX of PersonIdentifier");
  if (!COUNTRY.test(spCountry) || !COUNTRY.test(config.country))
    throw bad('countries are ISO 3166-1 alpha-2, upper case');

  const requested = new Map<InternalAttribute, boolean>();
  for (const name of NATURAL_MINIMUM) requested.set(name, true);
  if (config.legalPerson) for (const name of LEGAL_MINIMUM) requested.set(name, true);
  for (const { name, required } of config.requestedAttributes ?? []) {
    let uri: string | undefined;
    try {
      uri = eidasUriOf(name);
    } catch {
      uri = undefined;
    }
    if (!uri) throw bad(`attribute ${name} has no eIDAS URI`);
    if (LEGAL_PERSON.includes(name) && !config.legalPerson)
      throw bad(`attribute ${name} belongs to the legal-person data set: set legalPerson to true to ask for it`);
    requested.set(name, (requested.get(name) ?? false) || required);
  }
  return {
    ...base,
    spType,
    requested: [...requested].map(([name, required]) => ({ name, required })),
    legalPerson: config.legalPerson ?? false,
    country: config.country,
    spCountry,
    alwaysForceAuthn: true, // EID-R1: every eIDAS request forces a fresh authentication (refused above otherwise)
  };
}
