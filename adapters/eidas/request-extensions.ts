/**
 * The eIDAS `samlp:Extensions` of an AuthnRequest (EID-R3, EID-R5):
 *
 * - `eidas:SPType` (public | private);
 * - `eidas:RequestedAttributes`, one `eidas:RequestedAttribute` per attribute: Name = the eIDAS URI from
 *   the one attribute map, NameFormat uri, isRequired true/false.
 * Values come from validated configuration only and are escaped all the same.
 * Written in exclusive-c14n form (the AuthnRequest is signed as written, `saml/sign-canonical.ts`): each
 * top-level element declares `eidas`, attributes in canonical order, no self-closing tag.
 */
import { eidasUriOf, rowOf } from '../attributes/attribute-map.ts';
import { c14nAttribute, c14nText } from '../saml/xml/canonical.ts';
import { ATTRNAME_URI, NS } from '../saml/xml/namespaces.ts';
import type { ResolvedEidasConfig } from './config.ts';

/**
 * @example
 * buildEidasExtensions(idp); // '<eidas:SPType xmlns:eidas="…">public</eidas:SPType><eidas:RequestedAttributes xmlns:eidas="…">…'
 */
export function buildEidasExtensions(idp: Pick<ResolvedEidasConfig, 'spType' | 'requested'>): string {
  const a = c14nAttribute;
  // attributes in canonical order: FriendlyName, Name, NameFormat, isRequired (code unit order)
  const attributes = idp.requested
    .map(({ name, required }) => {
      const friendly = rowOf(name).eidasFriendlyName;
      return (
        `<eidas:RequestedAttribute${friendly ? ` FriendlyName="${a(friendly)}"` : ''} Name="${a(eidasUriOf(name)!)}"` +
        ` NameFormat="${ATTRNAME_URI}" isRequired="${required ? 'true' : 'false'}"></eidas:RequestedAttribute>`
      );
    })
    .join('');
  return (
    `<eidas:SPType xmlns:eidas="${NS.eidas}">${c14nText(idp.spType)}</eidas:SPType>` +
    `<eidas:RequestedAttributes xmlns:eidas="${NS.eidas}">${attributes}</eidas:RequestedAttributes>`
  );
}
