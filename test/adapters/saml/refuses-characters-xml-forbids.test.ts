/**
 * A SAML message with a character XML 1.0 does not allow (§2.2 `Char`) is not well-formed and is refused
 * with SAML_MALFORMED_XML — before a lenient parser can drop it silently inside signed content (the ACS
 * fuzzer found a NUL in an Attribute tag of a signed Assertion accepted; test/fuzz/).
 */
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import { parseStrictXml } from '../../../adapters/saml/xml/parse.ts';

const doc = (inside: string) =>
  `<?xml version="1.0"?><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><x a="1">${inside}</x></samlp:Response>`;

for (const [name, char] of [
  ['a NUL', '\u0000'],
  ['a C0 control', '\u0001'],
  ['an escape', '\u001b'],
  ['U+FFFE', '\uFFFE'],
  ['U+FFFF', '\uFFFF'],
  ['a lone high surrogate', '\uD800'],
  ['a lone low surrogate', '\uDC00'],
] as const) {
  test(`${name} in text is SAML_MALFORMED_XML`, (t) => {
    const error = t.throws(() => parseStrictXml(doc(`before${char}after`)), { instanceOf: AdapterError });
    t.is(error?.code, 'SAML_MALFORMED_XML');
  });
  test(`${name} in a tag is SAML_MALFORMED_XML`, (t) => {
    const error = t.throws(() => parseStrictXml(doc('').replace('<x a', `<x ${char}a`)), { instanceOf: AdapterError });
    t.is(error?.code, 'SAML_MALFORMED_XML');
  });
}

test('tabs, newlines, accents, CJK and characters beyond the BMP are XML', (t) => {
  t.notThrows(() => parseStrictXml(doc('\tJean-Émile\r\n 王 😀')));
});

for (const reference of [
  '&#0;',
  '&#x1;',
  '&#27;',
  '&#xFFFE;',
  '&#xffff;',
  '&#xD800;',
  '&#xDC00;',
  '&#x110000;',
  // the same with leading zeros, as long as the parser reads them (review, thirty-seventh round)
  '&#x0000000000;',
  '&#00000000000;',
  '&#x0000000D800;',
  '&#xFFFFFFFFF;',
  '&#0000000000000001114112;',
]) {
  test(`a character reference ${reference} in text or an attribute is SAML_MALFORMED_XML`, (t) => {
    for (const xml of [doc(`alice${reference}`), doc('').replace('a="1"', `a="1${reference}"`)]) {
      const error = t.throws(() => parseStrictXml(xml), { instanceOf: AdapterError });
      t.is(error?.code, 'SAML_MALFORMED_XML');
    }
  });
}

test('character references to characters XML allows are read as such', (t) => {
  const parsed = parseStrictXml(doc('&#x9;J&#233;r&#xF4;me &#x1F600;&#xD;&#x000041;&#0000066;'));
  t.is(parsed.documentElement!.textContent, '\tJérôme 😀\rAB');
});
