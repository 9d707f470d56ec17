/**
 * The eIDAS `samlp:Extensions` of an AuthnRequest (EID-R3, EID-R5):
 *
 * - `eidas:SPType` (public | private);
 * - `eidas:RequestedAttributes`, one `eidas:RequestedAttribute` per attribute: Name = the eIDAS URI from
 *   the one attribute map, NameFormat uri, isRequired true/false.
 * Values come from validated configuration only and are escaped all the same.
 */
import { eidasUriOf, rowOf } from '../attributes/attribute-map.ts';
import { xmlEscape } from '../saml/xml/escape.ts';
import { ATTRNAME_URI } from '../saml/xml/namespaces.ts';
import type { ResolvedEidasConfig } from './config.ts';

/**
 * @example
 * buildEidasExtensions(idp); // '<eidas:SPType>public</eidas:SPType><eidas:RequestedAttributes>…'
 */
export function buildEidasExtensions(idp: Pick<ResolvedEidasConfig, 'spType' | 'requested'>): string {
  const e = xmlEscape;
  const attributes = idp.requested
    .map(({ name, required }) => {
      const friendly = rowOf(name).eidasFriendlyName;
      return (
        `<eidas:RequestedAttribute${friendly ? ` FriendlyName="${e(friendly)}"` : ''} Name="${e(eidasUriOf(name)!)}"` +
        ` NameFormat="${ATTRNAME_URI}" isRequired="${required ? 'true' : 'false'}"/>`
      );
    })
    .join('');
  return `<eidas:SPType>${e(idp.spType)}</eidas:SPType><eidas:RequestedAttributes>${attributes}</eidas:RequestedAttributes>`;
}
