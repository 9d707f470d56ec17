/**
 * `gender` of the pivot identity: female | male | unspecified.
 *
 * - Legacy IdPs must send it (FranceConnect's pivot rule): absent is `gender: missing`.
 * - eIDAS identities: Gender is optional in the eIDAS data set, so absent becomes `unspecified`. The eIDAS
 *   adapter already turns the profile's vocabulary into internal values through the attribute map; the
 *   vocabulary itself (`Male`, `Female`, `Unspecified`, and eIDAS 1.1's `Not Specified`) is accepted here
 *   too, so an eIDAS adapter handing the profile's values through gets the same result (a test keeps this
 *   table equal to the attribute map's).
 */
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import type { PivotIdentity } from './pivot-identity.ts';
import { firstValue, identityInvalid } from './identity-invalid.ts';
import { validGender } from './validate-claims.ts';

/** eIDAS Gender value → pivot gender. */
export const EIDAS_GENDER: Readonly<Record<string, PivotIdentity['gender']>> = {
  Male: 'male',
  Female: 'female',
  Unspecified: 'unspecified',
  'Not Specified': 'unspecified',
};

/**
 * The pivot gender; `eidas` relaxes "mandatory" into "unspecified when absent".
 *
 * @example
 * genderOf(identity, true); // 'unspecified' when the node sent no Gender
 */
export function genderOf(identity: UpstreamIdentity, eidas: boolean): PivotIdentity['gender'] {
  const value = firstValue(identity, 'gender');
  if (value === undefined || value === '') return eidas ? 'unspecified' : identityInvalid('gender', 'missing');
  if (validGender(value)) return value;
  if (eidas && Object.hasOwn(EIDAS_GENDER, value)) return EIDAS_GENDER[value]!;
  return identityInvalid('gender', 'not female, male or unspecified');
}
