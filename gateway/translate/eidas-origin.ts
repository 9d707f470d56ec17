/**
 * Whether an identity comes from an eIDAS node, and which country's node issued it.
 *
 * - The mark is the eIDAS PersonIdentifier form `XX/YY/…` (eIDAS SAML Attribute Profile): part of the
 *   natural-person minimum data set, so every eIDAS identity carries it, and the eIDAS adapter has already
 *   checked that XX is the node's country and YY ours. Legacy IdPs send no such identifier (their `uid`
 *   never has the form), so they keep the legacy rules (gender and birthcountry mandatory).
 * - XX is the country of the *issuing node* (the eID scheme that identified the person), not the person's
 *   nationality nor country of birth: translation uses it for `birthcountry` only as the documented
 *   last resort (see birth.ts).
 * - Other eIDAS attributes (CountryOfBirth, Nationality, PlaceOfBirth, BirthName, CurrentAddress) never
 *   make an identity "eIDAS" on their own: legacy IdPs may map them too, and must not thereby escape
 *   the legacy rules.
 */
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import { firstValue } from './identity-invalid.ts';
import { eidasIdentifierParts } from './validate-claims.ts';

/**
 * The ISO 3166-1 alpha-2 code of the node that issued an eIDAS identity, or undefined for a non-eIDAS one.
 *
 * @example
 * issuingNodeCountry(identity); // 'DE' for PersonIdentifier 'DE/FR/0123456789'
 */
export function issuingNodeCountry(identity: UpstreamIdentity): string | undefined {
  const identifier = firstValue(identity, 'person_identifier');
  return identifier === undefined ? undefined : eidasIdentifierParts(identifier)?.issuing;
}
