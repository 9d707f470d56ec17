/**
 * Legal-person claims (a company representative's login: the eIDAS legal-person data set), released to
 * RPs under the `legal_person` scope.
 *
 * - Only an eIDAS node's entry that asks for the legal-person data set (`legalPerson: true`) can vouch for a
 *   company: from any other IdP (a national one, an eIDAS entry for natural persons) the legal attributes are
 *   not read at all, whatever it sent.
 * - Absent altogether: a natural person, no legal claims.
 * - Any legal attribute present: the eIDAS legal-person minimum data set must be there, i.e.
 *   `legal_person_identifier` and `legal_name`.
 * - legal_person_identifier: the eIDAS form `XX/YY/…` (issuing country, receiving country, 1–256
 *   characters without spaces or control characters), XX the country of the node that sent it;
 * - legal_name: 1–256 characters; legal_address: 1–1024 (eIDAS sends it base64-encoded, passed as is);
 *   vat_registration_number: 1–64; all without control characters or surrounding spaces;
 * - lei: an ISO 17442 LEI with valid check digits.
 * Each failure is `IDENTITY_INVALID` naming the claim. Tax reference and EORI are not released (the
 * attribute map gives them no OIDC claim).
 */
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import { eidasOrigin } from './eidas-origin.ts';
import { firstValue, identityInvalid } from './identity-invalid.ts';
import type { LegalPersonClaims } from './pivot-identity.ts';
import { eidasIdentifierParts, validLei, validText } from './validate-claims.ts';

/** The claims of the `legal_person` scope, in the order discovery lists them. */
export const LEGAL_PERSON_CLAIMS = [
  'legal_person_identifier',
  'legal_name',
  'legal_address',
  'vat_registration_number',
  'lei',
] as const;

type Rule = { check: (value: string) => boolean; why: string };
const RULES: Record<(typeof LEGAL_PERSON_CLAIMS)[number], Rule> = {
  legal_person_identifier: {
    check: (v) => eidasIdentifierParts(v) !== undefined,
    why: 'not XX/YY/… (eIDAS LegalPersonIdentifier)',
  },
  legal_name: { check: (v) => validText(v, 256), why: 'not 1–256 characters without control characters' },
  legal_address: { check: (v) => validText(v, 1024), why: 'not 1–1024 characters without control characters' },
  vat_registration_number: { check: (v) => validText(v, 64), why: 'not 1–64 characters without control characters' },
  lei: { check: validLei, why: 'not an ISO 17442 LEI' },
};
const MINIMUM = ['legal_person_identifier', 'legal_name'] as const;

/**
 * The validated legal-person claims, or undefined for a natural person.
 *
 * @example
 * legalPersonOf(identity); // { legal_person_identifier: 'DE/FR/HRB-12345', legal_name: 'Musterfirma GmbH' }
 */
export function legalPersonOf(identity: UpstreamIdentity): LegalPersonClaims | undefined {
  const origin = eidasOrigin(identity);
  if (origin?.legalPerson !== true) return undefined;
  const claims: LegalPersonClaims = {};
  for (const name of LEGAL_PERSON_CLAIMS) {
    const value = firstValue(identity, name);
    if (value === undefined) continue;
    if (!RULES[name].check(value)) identityInvalid(name, RULES[name].why);
    claims[name] = value;
  }
  if (Object.keys(claims).length === 0) return undefined;
  for (const name of MINIMUM)
    if (claims[name] === undefined) identityInvalid(name, 'missing from the legal-person data set');
  if (eidasIdentifierParts(claims.legal_person_identifier!)?.issuing !== origin.country)
    identityInvalid('legal_person_identifier', `not ${origin.country}/…, the country of the node that sent it`);
  return claims;
}
