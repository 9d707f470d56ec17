/**
 * Whether an identity comes from an eIDAS node, and which country's node issued it.
 *
 * - The IdP's registry entry decides (`UpstreamIdentity.origin`), never the shape of an attribute: a national
 *   IdP whose `uid` happens to read `DE/FR/…` keeps the national rules (gender and birthcountry mandatory).
 * - An eIDAS identity carries the PersonIdentifier `XX/YY/…` (natural-person minimum data set); the eIDAS
 *   adapter has checked that XX is the node's configured country and YY ours. One without it, or whose XX is
 *   not the entry's country, is `IDENTITY_INVALID` (person_identifier): translation does not trust a
 *   protocol adapter to have been right.
 * - XX is the country of the *issuing node* (the eID scheme that identified the person), not the person's
 *   nationality nor country of birth: translation uses it for `birthcountry` only as the documented
 *   last resort (see birth.ts).
 * - Other eIDAS attributes (CountryOfBirth, Nationality, PlaceOfBirth, BirthName, CurrentAddress) never
 *   make an identity "eIDAS": national IdPs may map them too, and must not thereby escape their rules.
 */
import type { IdentityOrigin, UpstreamIdentity } from '../../adapters/contract.ts';
import { firstValue, identityInvalid } from './identity-invalid.ts';
import { eidasIdentifierParts } from './validate-claims.ts';

type EidasOrigin = Extract<IdentityOrigin, { kind: 'eidas-node' }>;

/**
 * The eIDAS origin of an identity, or undefined for a national IdP; an unknown kind is `IDENTITY_INVALID`.
 *
 * @example
 * eidasOrigin(identity)?.legalPerson; // true for the company representatives' entry of an eIDAS node
 */
export function eidasOrigin(identity: UpstreamIdentity): EidasOrigin | undefined {
  const { origin } = identity;
  if (origin.kind === 'eidas-node') return origin;
  if (origin.kind === 'national') return undefined;
  return identityInvalid('person_identifier', 'the identity provider kind is unknown');
}

/**
 * The ISO 3166-1 alpha-2 code of the node that issued an eIDAS identity, or undefined for a national one.
 *
 * @example
 * issuingNodeCountry(identity); // 'DE' for an identity from the German node (PersonIdentifier 'DE/FR/0123456789')
 */
export function issuingNodeCountry(identity: UpstreamIdentity): string | undefined {
  const origin = eidasOrigin(identity);
  if (origin === undefined) return undefined;
  const identifier = firstValue(identity, 'person_identifier');
  if (identifier === undefined) identityInvalid('person_identifier', 'missing from an eIDAS identity');
  const issuing = eidasIdentifierParts(identifier)?.issuing;
  if (issuing !== origin.country)
    identityInvalid('person_identifier', `not ${origin.country}/…, the country of the node that sent it`);
  return issuing;
}
