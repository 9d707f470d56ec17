/**
 * Outgoing SAML (our AuthnRequests, logout messages, metadata) never carries a character XML 1.0 does not
 * allow (§2.2 `Char`): a value holding one is refused, not written (a lone UTF-16 surrogate would otherwise be
 * sent as U+FFFD — another value than the one given). Review finding of the "signed as written" AuthnRequest.
 */
import test from 'ava';
import { assertXmlCharacters, xmlEscape } from '../../../adapters/saml/xml/escape.ts';
import { c14nAttribute, c14nText } from '../../../adapters/saml/xml/canonical.ts';

const writers = { xmlEscape, c14nText, c14nAttribute, assertXmlCharacters } as const;

for (const [name, write] of Object.entries(writers)) {
  for (const [what, char] of [
    ['a NUL', '\u0000'],
    ['U+FFFF', '\uFFFF'],
    ['a lone high surrogate', '\uD800'],
    ['a lone low surrogate', '\uDC00'],
    ['a low surrogate before a high one', '\uDC00\uD800'],
  ] as const) {
    test(`${name} refuses ${what}`, (t) => {
      t.throws(() => write(`before${char}after`), { instanceOf: TypeError });
    });
  }
  test(`${name} keeps tabs, accents, CJK and characters beyond the BMP`, (t) => {
    t.notThrows(() => write('\tJean-Émile 王 😀 \uD83D\uDE00'));
  });
}
