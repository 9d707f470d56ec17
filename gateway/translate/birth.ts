/**
 * `birthcountry` and `birthplace` of the pivot identity (INSEE COG codes).
 *
 * birthcountry, first rule that applies:
 * 1. a `birthcountry` attribute (legacy French IdPs, or an operator's mapping): a COG code, and when
 *    CountryOfBirth is also present the two must name the same country;
 * 2. CountryOfBirth (`country_of_birth`, ISO 3166-1 alpha-2): its COG code from the ISO → COG table; an
 *    unknown country is refused, never replaced by another;
 * 3. eIDAS identities only: the COG code of the *issuing node's country* (the XX of PersonIdentifier
 *    `XX/YY/…`). This is an approximation, chosen because eIDAS nodes rarely send CountryOfBirth and the
 *    pivot needs a country: it is the country whose eID scheme vouched for the person, which for most
 *    people is their country of birth and for some is not. It never yields France (a French node proves
 *    nothing about a French birth, and a French birth would demand a commune code we cannot know);
 * 4. otherwise `birthcountry: missing`.
 *
 * birthplace: a COG commune code exactly when birthcountry is 99100 (France), empty otherwise. eIDAS
 * PlaceOfBirth is free text and never becomes `birthplace`; no French commune is ever invented, so a
 * person born in France reaching us through eIDAS without a commune code is refused (`birthplace: …`).
 */
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import { firstValue, identityInvalid } from './identity-invalid.ts';
import { cogOfIsoCountry } from './iso-to-cog.ts';
import { validCog, validIsoCountry } from './validate-claims.ts';

const FRANCE = '99100';

function fromCountryOfBirth(identity: UpstreamIdentity): string | undefined {
  const iso = firstValue(identity, 'country_of_birth');
  if (iso === undefined) return undefined;
  if (!validIsoCountry(iso)) identityInvalid('birthcountry', 'country_of_birth is not an ISO 3166-1 alpha-2 code');
  return cogOfIsoCountry(iso) ?? identityInvalid('birthcountry', `no COG code is known for country_of_birth ${iso}`);
}

/**
 * The COG code of the country of birth, by the rules above; `issuingCountry` is set for eIDAS identities.
 *
 * @example
 * birthcountryOf(eidasIdentity, 'DE'); // '99109' when no CountryOfBirth was sent
 */
export function birthcountryOf(identity: UpstreamIdentity, issuingCountry: string | undefined): string {
  const declared = firstValue(identity, 'birthcountry');
  const ofBirth = fromCountryOfBirth(identity);
  if (declared !== undefined && declared !== '') {
    if (!validCog(declared)) identityInvalid('birthcountry', 'not a COG code');
    if (ofBirth !== undefined && ofBirth !== declared) identityInvalid('birthcountry', 'contradicts country_of_birth');
    return declared;
  }
  if (ofBirth !== undefined) return ofBirth;
  if (issuingCountry === undefined) identityInvalid('birthcountry', 'missing');
  const cog =
    cogOfIsoCountry(issuingCountry) ??
    identityInvalid('birthcountry', `no COG code is known for the issuing node's country ${issuingCountry}`);
  if (cog === FRANCE) identityInvalid('birthcountry', 'a French node does not say where the person was born');
  return cog;
}

/**
 * The COG code of the commune of birth: required for France, empty for people born abroad.
 *
 * @example
 * birthplaceOf(identity, '99109', 'DE'); // ''
 */
export function birthplaceOf(
  identity: UpstreamIdentity,
  birthcountry: string,
  issuingCountry: string | undefined,
): string {
  const birthplace = firstValue(identity, 'birthplace') ?? '';
  if (birthcountry !== FRANCE) {
    if (birthplace !== '') identityInvalid('birthplace', 'must be empty for people born abroad');
    return '';
  }
  if (!validCog(birthplace)) {
    identityInvalid(
      'birthplace',
      issuingCountry === undefined
        ? 'a COG code is required for people born in France'
        : 'born in France, but eIDAS carries no COG commune code and none is invented',
    );
  }
  return birthplace;
}
