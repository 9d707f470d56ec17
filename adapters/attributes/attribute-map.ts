/**
 * The one attribute map: internal attribute name ↔ eIDAS URI ↔ legacy SAML names ↔ OIDC claim
 * (SATOSA's `internal_attributes.yaml`). Adapters translate protocol names through this table only;
 * they never hard-code OIDC claim names. Tested in both directions.
 *
 * - Each eIDAS URI and each legacy name belongs to one row only (checked by the tests).
 * - `eidasValues` translates the eIDAS value vocabulary into internal values (Gender `Male` → `male`).
 * - Legacy IdPs send "basic" names by default (the internal name itself, NameFormat basic) unless their
 *   registry entry maps other names (urn:oid, ...) onto internal names.
 * - eIDAS PlaceOfBirth is free text: it is `place_of_birth`, never the INSEE `birthplace` code.
 */
import type { InternalAttribute } from '../contract.ts';

export interface AttributeRow {
  internal: InternalAttribute;
  /** eIDAS attribute URI (natural person, representative or legal person), where the profile has one. */
  eidas?: string;
  /** eIDAS FriendlyName. */
  eidasFriendlyName?: string;
  /** eIDAS value → internal value, for attributes with a closed vocabulary. */
  eidasValues?: Readonly<Record<string, string>>;
  /** Names legacy IdPs commonly use (basic first, then urn:oid). */
  legacy: string[];
  /** The OIDC claim it becomes, if any. */
  oidcClaim?: string;
}

/** eIDAS attribute URI prefixes. */
export const EIDAS_NP = 'http://eidas.europa.eu/attributes/naturalperson/';
export const EIDAS_LP = 'http://eidas.europa.eu/attributes/legalperson/';

const NP = EIDAS_NP;
const LP = EIDAS_LP;

export const ATTRIBUTE_MAP: readonly AttributeRow[] = [
  {
    internal: 'person_identifier',
    eidas: `${NP}PersonIdentifier`,
    eidasFriendlyName: 'PersonIdentifier',
    legacy: ['person_identifier', 'urn:oid:0.9.2342.19200300.100.1.1'],
  },
  {
    internal: 'given_name',
    eidas: `${NP}CurrentGivenName`,
    eidasFriendlyName: 'FirstName',
    legacy: ['given_name', 'urn:oid:2.5.4.42'],
    oidcClaim: 'given_name',
  },
  {
    internal: 'family_name',
    eidas: `${NP}CurrentFamilyName`,
    eidasFriendlyName: 'FamilyName',
    legacy: ['family_name', 'urn:oid:2.5.4.4'],
    oidcClaim: 'family_name',
  },
  {
    internal: 'birthdate',
    eidas: `${NP}DateOfBirth`,
    eidasFriendlyName: 'DateOfBirth',
    legacy: ['birthdate', 'urn:oid:1.3.6.1.4.1.25178.1.2.3'],
    oidcClaim: 'birthdate',
  },
  {
    internal: 'gender',
    eidas: `${NP}Gender`,
    eidasFriendlyName: 'Gender',
    eidasValues: { Male: 'male', Female: 'female', Unspecified: 'unspecified', 'Not Specified': 'unspecified' },
    legacy: ['gender', 'urn:oid:1.3.6.1.4.1.25178.1.2.2'],
    oidcClaim: 'gender',
  },
  { internal: 'birth_name', eidas: `${NP}BirthName`, eidasFriendlyName: 'BirthName', legacy: ['birth_name'] },
  {
    internal: 'place_of_birth',
    eidas: `${NP}PlaceOfBirth`,
    eidasFriendlyName: 'PlaceOfBirth',
    legacy: ['place_of_birth'],
  },
  {
    internal: 'current_address',
    eidas: `${NP}CurrentAddress`,
    eidasFriendlyName: 'CurrentAddress',
    legacy: ['current_address', 'urn:oid:2.5.4.16'],
  },
  { internal: 'nationality', eidas: `${NP}Nationality`, eidasFriendlyName: 'Nationality', legacy: ['nationality'] },
  {
    internal: 'country_of_birth',
    eidas: `${NP}CountryOfBirth`,
    eidasFriendlyName: 'CountryOfBirth',
    legacy: ['country_of_birth'],
  },
  { internal: 'birthplace', legacy: ['birthplace'], oidcClaim: 'birthplace' },
  { internal: 'birthcountry', legacy: ['birthcountry'], oidcClaim: 'birthcountry' },
  { internal: 'preferred_username', legacy: ['preferred_username'], oidcClaim: 'preferred_username' },
  { internal: 'email', legacy: ['email', 'urn:oid:0.9.2342.19200300.100.1.3'], oidcClaim: 'email' },
  {
    internal: 'legal_person_identifier',
    eidas: `${LP}LegalPersonIdentifier`,
    eidasFriendlyName: 'LegalPersonIdentifier',
    legacy: ['legal_person_identifier'],
    oidcClaim: 'legal_person_identifier',
  },
  {
    internal: 'legal_name',
    eidas: `${LP}LegalName`,
    eidasFriendlyName: 'LegalName',
    legacy: ['legal_name', 'urn:oid:2.5.4.10'],
    oidcClaim: 'legal_name',
  },
  {
    internal: 'legal_address',
    eidas: `${LP}LegalPersonAddress`,
    eidasFriendlyName: 'LegalAddress',
    legacy: ['legal_address'],
    oidcClaim: 'legal_address',
  },
  {
    internal: 'vat_registration_number',
    eidas: `${LP}VATRegistrationNumber`,
    eidasFriendlyName: 'VATRegistration',
    legacy: ['vat_registration_number'],
    oidcClaim: 'vat_registration_number',
  },
  {
    internal: 'tax_reference',
    eidas: `${LP}TaxReference`,
    eidasFriendlyName: 'TaxReference',
    legacy: ['tax_reference'],
  },
  { internal: 'lei', eidas: `${LP}LEI`, eidasFriendlyName: 'LEI', legacy: ['lei'], oidcClaim: 'lei' },
  { internal: 'eori', eidas: `${LP}EORI`, eidasFriendlyName: 'EORI', legacy: ['eori'] },
];

/** Resolves a received attribute name (eIDAS URI or legacy name) to its internal name, or undefined. */
export function internalNameOf(name: string): InternalAttribute | undefined {
  return rowOfName(name)?.internal;
}

/** The row a received name (eIDAS URI or legacy name) belongs to. */
export function rowOfName(name: string): AttributeRow | undefined {
  return ATTRIBUTE_MAP.find((row) => row.eidas === name || row.legacy.includes(name));
}

/** The row of an internal name; throws for a name the table does not know. */
export function rowOf(internal: InternalAttribute): AttributeRow {
  const row = ATTRIBUTE_MAP.find((r) => r.internal === internal);
  if (!row) throw new TypeError(`attribute ${internal} is not in the attribute map`);
  return row;
}

/** The eIDAS URI of an internal name, or undefined when eIDAS has none. */
export function eidasUriOf(internal: InternalAttribute): string | undefined {
  return rowOf(internal).eidas;
}

/** The internal name an OIDC claim comes from, or undefined. */
export function internalNameOfClaim(claim: string): InternalAttribute | undefined {
  return ATTRIBUTE_MAP.find((row) => row.oidcClaim === claim)?.internal;
}

/**
 * An eIDAS value in internal form (closed vocabularies only; other values pass unchanged). An unknown
 * value of a closed vocabulary returns undefined (the caller refuses it).
 *
 * @example
 * internalValueOf('gender', 'Female'); // 'female'
 */
export function internalValueOf(internal: InternalAttribute, eidasValue: string): string | undefined {
  const values = rowOf(internal).eidasValues;
  if (!values) return eidasValue;
  return Object.hasOwn(values, eidasValue) ? values[eidasValue] : undefined;
}

/** The eIDAS form of an internal value (the first eIDAS value mapping to it). */
export function eidasValueOf(internal: InternalAttribute, value: string): string | undefined {
  const values = rowOf(internal).eidasValues;
  if (!values) return value;
  return Object.entries(values).find(([, v]) => v === value)?.[0];
}
