/**
 * An adapter error's detail may quote what a hostile message carried (an attribute value, a URI, an element's
 * name); it is logged and audited, so it is bounded: 300 characters, the rest cut and marked `…` (reviewer finding,
 * twenty-seventh round: a refused message's quote went into the log and the audit table at any length). A short
 * detail is kept as it is; a cut never splits a character.
 */
import test from 'ava';
import { AdapterError, MAX_DETAIL_CHARACTERS } from '../../../adapters/contract.ts';

test('a long detail is cut at 300 characters and marked', (t) => {
  const error = new AdapterError('SAML_SCHEMA_INVALID', 'refused', { detail: `Issuer ${'A'.repeat(100_000)}` });
  t.is([...error.detail!].length, MAX_DETAIL_CHARACTERS + 1);
  t.true(error.detail!.endsWith('…'));
  t.true(error.detail!.startsWith('Issuer AAA'));
});

test('a short detail is kept whole; a cut never splits a character', (t) => {
  t.is(
    new AdapterError('SAML_SCHEMA_INVALID', 'refused', { detail: 'NotOnOrAfter missing' }).detail,
    'NotOnOrAfter missing',
  );
  const emoji = new AdapterError('SAML_SCHEMA_INVALID', 'refused', { detail: '😀'.repeat(400) }).detail!;
  t.true(emoji.isWellFormed());
  t.is([...emoji].length, MAX_DETAIL_CHARACTERS + 1);
});
