/**
 * Writing XML directly in its canonical form (Canonical XML 1.0 §2.3, the escaping Exclusive XML
 * Canonicalization inherits), for documents we build ourselves from a template (`authn-request.ts`):
 * then the bytes we send are the bytes we digest, and no parse or canonicalisation runs to sign them.
 *
 * - Text: `&` `<` `>` and CR escaped (`&amp;` `&lt;` `&gt;` `&#xD;`); nothing else.
 * - Attribute values (always double-quoted): `&` `<` `"` TAB LF CR escaped (`&amp;` `&lt;` `&quot;`
 *   `&#x9;` `&#xA;` `&#xD;`); nothing else.
 * - Both are valid XML escaping (SAML-GEN-01: markup in a value stays text); a character XML cannot
 *   carry is refused (`xmlEscape`'s rule), never dropped.
 * - The template itself must follow the rest of the canonical form: no XML declaration, no self-closing
 *   tag, no whitespace between elements that is not content, attributes in canonical order, each namespace
 *   declared on the outermost element that uses it (exclusive c14n). The tests check the output of each
 *   template against xml-crypto's canonicalisation and xmlsec1.
 */
import { assertXmlCharacters } from './escape.ts';

const TEXT: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const ATTRIBUTE: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '"': '&quot;',
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
};

/**
 * A value as canonical text content.
 *
 * @example
 * `<saml:Issuer xmlns:saml="${NS.assertion}">${c14nText(entityId)}</saml:Issuer>`
 */
export function c14nText(value: string): string {
  assertXmlCharacters(value);
  return value.replace(/[&<>\r]/g, (c) => TEXT[c]!);
}

/**
 * A value as a canonical attribute value (to be written between double quotes).
 *
 * @example
 * ` Destination="${c14nAttribute(destination)}"`
 */
export function c14nAttribute(value: string): string {
  assertXmlCharacters(value);
  return value.replace(/[&<"\t\n\r]/g, (c) => ATTRIBUTE[c]!);
}
