/**
 * Maps the attributes of a signed assertion onto internal attribute names.
 *
 * - The IdP's own `attributeNames` are consulted first, then the shared attribute map
 *   (`adapters/attributes/attribute-map.ts`); unknown names are dropped, never passed through.
 * - Values keep their order; two received names mapping to one internal name are appended in order.
 */
import type { InternalAttribute, UpstreamIdentity } from '../contract.ts';
import { internalNameOf } from '../attributes/attribute-map.ts';

/**
 * @example
 * mapAttributes([{ name: 'urn:oid:2.5.4.42', values: ['Ada'] }], {}); // { given_name: ['Ada'] }
 */
export function mapAttributes(
  received: readonly { name: string; values: readonly string[] }[],
  idpNames: Readonly<Record<string, InternalAttribute>>,
): UpstreamIdentity['attributes'] {
  const out: UpstreamIdentity['attributes'] = {};
  for (const { name, values } of received) {
    const internal = Object.hasOwn(idpNames, name) ? idpNames[name] : internalNameOf(name);
    if (!internal) continue;
    (out[internal] ??= []).push(...values);
  }
  return out;
}
