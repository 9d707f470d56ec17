/**
 * UpstreamIdentity → PivotIdentity. Reads internal attribute names only (never protocol names), takes
 * the first value of each, validates every claim, and derives the acr from the verified LoA without
 * ever raising it. Any invalid or missing mandatory claim is `IDENTITY_INVALID` naming the claim.
 *
 * The steps, in order:
 * - names, birthdate                  (every identity)
 * - eIDAS or not                      eidas-origin.ts: the IdP's registry entry (`origin`), and its country
 * - gender                            gender.ts: mandatory for legacy IdPs, `unspecified` when eIDAS omits it
 * - birthcountry, birthplace          birth.ts: COG codes; CountryOfBirth or the issuing node's country for eIDAS
 * - email, preferred_username         optional
 * - legal-person claims               legal-person.ts: only from an eIDAS entry asking for the legal-person data set
 */
import type { InternalAttribute, UpstreamIdentity } from '../../adapters/contract.ts';
import { acrOfLoa } from './acr.ts';
import { birthcountryOf, birthplaceOf } from './birth.ts';
import { issuingNodeCountry } from './eidas-origin.ts';
import { genderOf } from './gender.ts';
import { firstValue, identityInvalid } from './identity-invalid.ts';
import { legalPersonOf } from './legal-person.ts';
import type { PivotIdentity } from './pivot-identity.ts';
import { validBirthdate, validEmail, validName } from './validate-claims.ts';

function required(identity: UpstreamIdentity, name: InternalAttribute): string {
  const value = firstValue(identity, name);
  if (value === undefined || value === '') identityInvalid(name, 'missing');
  return value;
}

/**
 * The validated pivot identity of a verified upstream identity.
 *
 * @example
 * const pivot = toPivotIdentity(identity); // { given_name, family_name, birthdate, gender, birthplace, birthcountry, acr, … }
 */
export function toPivotIdentity(identity: UpstreamIdentity, today: Date = new Date()): PivotIdentity {
  const given = required(identity, 'given_name');
  const family = required(identity, 'family_name');
  const birthdate = required(identity, 'birthdate');
  if (!validName(given)) identityInvalid('given_name', 'not a valid name');
  if (!validName(family)) identityInvalid('family_name', 'not a valid name');
  if (!validBirthdate(birthdate, today))
    identityInvalid('birthdate', 'not YYYY-MM-DD (or a presumed date) in the past');
  const issuing = issuingNodeCountry(identity);
  const gender = genderOf(identity, issuing !== undefined);
  const birthcountry = birthcountryOf(identity, issuing);
  const birthplace = birthplaceOf(identity, birthcountry, issuing);
  const pivot: PivotIdentity = {
    given_name: given,
    family_name: family,
    birthdate,
    gender,
    birthplace,
    birthcountry,
    acr: acrOfLoa(identity.loa),
  };
  const email = firstValue(identity, 'email');
  if (email !== undefined) {
    if (!validEmail(email)) identityInvalid('email', 'not an e-mail address');
    pivot.email = email;
  }
  const username = firstValue(identity, 'preferred_username');
  if (username !== undefined) {
    if (!validName(username)) identityInvalid('preferred_username', 'not a valid name');
    pivot.preferred_username = username;
  }
  const legal = legalPersonOf(identity);
  return legal ? { ...pivot, ...legal } : pivot;
}
