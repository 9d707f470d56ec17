/**
 * UpstreamIdentity → PivotIdentity. Reads internal attribute names only (never protocol names), takes
 * the first value of each, validates every claim, and derives the acr from the verified LoA without
 * ever raising it. Any invalid or missing mandatory claim is `IDENTITY_INVALID` naming the claim.
 */
import type { InternalAttribute, UpstreamIdentity } from '../../adapters/contract.ts';
import { GatewayError } from '../errors.ts';
import { acrOfLoa } from './acr.ts';
import type { PivotIdentity } from './pivot-identity.ts';
import { validBirthdate, validCog, validEmail, validGender, validName } from './validate-claims.ts';

function invalid(claim: string, why: string): never {
  throw new GatewayError('IDENTITY_INVALID', 400, `the identity provider sent an invalid ${claim}`, { detail: `${claim}: ${why}` });
}

function first(identity: UpstreamIdentity, name: InternalAttribute): string | undefined {
  const values = identity.attributes[name];
  return values && values.length > 0 ? values[0] : undefined;
}

function required(identity: UpstreamIdentity, name: InternalAttribute): string {
  const value = first(identity, name);
  if (value === undefined || value === '') invalid(name, 'missing');
  return value;
}

export function toPivotIdentity(identity: UpstreamIdentity, today: Date = new Date()): PivotIdentity {
  const given = required(identity, 'given_name');
  const family = required(identity, 'family_name');
  const birthdate = required(identity, 'birthdate');
  const gender = required(identity, 'gender');
  const birthcountry = required(identity, 'birthcountry');
  const birthplace = first(identity, 'birthplace') ?? '';
  if (!validName(given)) invalid('given_name', 'not a valid name');
  if (!validName(family)) invalid('family_name', 'not a valid name');
  if (!validBirthdate(birthdate, today)) invalid('birthdate', 'not YYYY-MM-DD (or a presumed date) in the past');
  if (!validGender(gender)) invalid('gender', 'not female, male or unspecified');
  if (!validCog(birthcountry)) invalid('birthcountry', 'not a COG code');
  if (birthcountry === '99100' ? !validCog(birthplace) : birthplace !== '') {
    invalid('birthplace', birthcountry === '99100' ? 'a COG code is required for people born in France' : 'must be empty for people born abroad');
  }
  const pivot: PivotIdentity = {
    given_name: given,
    family_name: family,
    birthdate,
    gender,
    birthplace,
    birthcountry,
    acr: acrOfLoa(identity.loa),
  };
  const email = first(identity, 'email');
  if (email !== undefined) {
    if (!validEmail(email)) invalid('email', 'not an e-mail address');
    pivot.email = email;
  }
  const username = first(identity, 'preferred_username');
  if (username !== undefined) {
    if (!validName(username)) invalid('preferred_username', 'not a valid name');
    pivot.preferred_username = username;
  }
  return pivot;
}
