/**
 * The one way translation refuses an identity: `IDENTITY_INVALID` (400) whose internal detail starts with
 * the pivot claim at fault (`birthcountry: …`, `legal_name: …`), so logs and tests tell every rule apart.
 * Also the one way translation reads an attribute: by internal name, first value.
 */
import type { InternalAttribute, UpstreamIdentity } from '../../adapters/contract.ts';
import { GatewayError } from '../errors.ts';

/**
 * Throws `IDENTITY_INVALID` naming the claim and why.
 *
 * @example
 * identityInvalid('gender', 'missing'); // detail "gender: missing"
 */
export function identityInvalid(claim: string, why: string): never {
  throw new GatewayError('IDENTITY_INVALID', 400, `the identity provider sent an invalid ${claim}`, {
    detail: `${claim}: ${why}`,
  });
}

/**
 * The first value of an attribute, or undefined when it is absent or has no value.
 *
 * @example
 * firstValue(identity, 'given_name'); // 'Marie'
 */
export function firstValue(identity: UpstreamIdentity, name: InternalAttribute): string | undefined {
  const values = identity.attributes[name];
  return values && values.length > 0 ? values[0] : undefined;
}
