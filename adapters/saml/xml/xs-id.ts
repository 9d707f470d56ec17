/**
 * An `xs:ID` (XML Schema: an NCName — an XML Name without a colon), as SAML Core §1.3.4 types every message and
 * assertion ID. The replay guards key an ID per issuer (`saml:logout:<issuer>:<id>`, `saml:assertion:<issuer>:<id>`)
 * joined with ':'; an ID with a colon could make the key of one issuer's ID the key of another's. So an ID
 * that is not an NCName is refused (`SAML_SCHEMA_INVALID`) before it is used; every IdP we know (samlify,
 * SimpleSAMLphp, pysaml2, eIDAS nodes: `_` + hex, `id-…`, `ID_…`) sends NCNames, as we do (`authn-request.ts`).
 */
import { samlError } from '../errors.ts';

// XML 1.0 (5th ed.) NameStartChar and NameChar, without ':'
const START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
// the combining marks U+0300–U+036F are NameChars on their own (XML 1.0), not combined with a neighbour
// eslint-disable-next-line no-misleading-character-class
const NCNAME = new RegExp(`^[${START}][${START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`, 'u');

/**
 * Whether `value` is an NCName (the lexical space of `xs:ID`).
 *
 * @example
 * isXsId('_3f2a'); // true
 * isXsId('a:b'); // false
 */
export function isXsId(value: string): boolean {
  return NCNAME.test(value);
}

/**
 * Throws `SAML_SCHEMA_INVALID` unless `value` is an `xs:ID`.
 *
 * @example
 * requireXsId(attr(root, 'ID'), 'LogoutRequest ID');
 */
export function requireXsId(value: string, what: string): void {
  if (!isXsId(value)) throw samlError('SAML_SCHEMA_INVALID', { detail: `${what} is not an xs:ID` });
}
