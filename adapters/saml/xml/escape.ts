/**
 * Escaping for every value interpolated into outgoing SAML: text and attribute contexts alike
 * (`<`, `>`, `&`, `"`, `'`), so RP- or config-controlled strings (`</…>`, `]]>`, `-->`) stay text
 * (SAML-GEN-01). Control characters XML cannot carry are refused rather than dropped.
 */

// A C0 control other than TAB, LF, CR; U+FFFE/U+FFFF; a UTF-16 surrogate not in a pair (no character at all).
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Escapes a value for an XML text node or a double- or single-quoted attribute.
 *
 * @example
 * `<saml:Issuer>${xmlEscape(entityId)}</saml:Issuer>`
 */
export function xmlEscape(value: string): string {
  assertXmlCharacters(value);
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** Throws when `value` holds a character XML cannot carry (a C0 control other than TAB, LF, CR; U+FFFE/U+FFFF; a lone surrogate). */
export function assertXmlCharacters(value: string): void {
  if (FORBIDDEN.test(value)) throw new TypeError('value contains a character XML cannot carry');
}
