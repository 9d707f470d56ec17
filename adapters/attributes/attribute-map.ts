/**
 * The one attribute map: internal attribute name ↔ eIDAS URI ↔ legacy SAML names ↔ OIDC claim.
 * Adapters translate protocol names through this table only; they never hard-code OIDC claim names.
 *
 * Legacy IdPs send "basic" names by default (the internal name itself, NameFormat basic) unless their
 * registry entry maps other names (urn:oid, ...) onto internal names.
 */
import type { InternalAttribute } from '../contract.ts';

export interface AttributeRow {
  internal: InternalAttribute;
  /** eIDAS natural-person attribute URI, where the eIDAS profile defines one. */
  eidas?: string;
  /** Names legacy IdPs commonly use (basic first, then urn:oid). */
  legacy: string[];
  /** The OIDC claim it becomes, if any. */
  oidcClaim?: string;
}

const NP = 'http://eidas.europa.eu/attributes/naturalperson/';

export const ATTRIBUTE_MAP: readonly AttributeRow[] = [
  { internal: 'person_identifier', eidas: `${NP}PersonIdentifier`, legacy: ['person_identifier', 'urn:oid:0.9.2342.19200300.100.1.1'] },
  { internal: 'given_name', eidas: `${NP}CurrentGivenName`, legacy: ['given_name', 'urn:oid:2.5.4.42'], oidcClaim: 'given_name' },
  { internal: 'family_name', eidas: `${NP}CurrentFamilyName`, legacy: ['family_name', 'urn:oid:2.5.4.4'], oidcClaim: 'family_name' },
  { internal: 'birthdate', eidas: `${NP}DateOfBirth`, legacy: ['birthdate', 'urn:oid:1.3.6.1.4.1.25178.1.2.3'], oidcClaim: 'birthdate' },
  { internal: 'gender', eidas: `${NP}Gender`, legacy: ['gender', 'urn:oid:1.3.6.1.4.1.25178.1.2.2'], oidcClaim: 'gender' },
  { internal: 'birthplace', eidas: `${NP}PlaceOfBirth`, legacy: ['birthplace'], oidcClaim: 'birthplace' },
  { internal: 'birthcountry', legacy: ['birthcountry'], oidcClaim: 'birthcountry' },
  { internal: 'preferred_username', eidas: `${NP}BirthName`, legacy: ['preferred_username'], oidcClaim: 'preferred_username' },
  { internal: 'email', legacy: ['email', 'urn:oid:0.9.2342.19200300.100.1.3'], oidcClaim: 'email' },
];

/** Resolves a received attribute name (eIDAS URI or legacy name) to its internal name, or undefined. */
export function internalNameOf(name: string): InternalAttribute | undefined {
  for (const row of ATTRIBUTE_MAP) {
    if (row.eidas === name || row.legacy.includes(name)) return row.internal;
  }
  return undefined;
}
