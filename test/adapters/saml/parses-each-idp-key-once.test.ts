/**
 * Issue #14: the key of a metadata certificate is parsed once, not at every signature check
 * (`publicKeyOf`, used by every verify class of `xmldsig.ts`); a different certificate is a different key.
 * That the signatures still verify, and bad ones still fail, is the rest of this folder's tests.
 */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { publicKeyOf } from '../../../adapters/saml/xmldsig.ts';

const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

test('the same certificate gives the same parsed key; another certificate another key', (t) => {
  const a = pem();
  const b = pem();
  t.is(publicKeyOf(a), publicKeyOf(a));
  t.is(publicKeyOf(Buffer.from(a)), publicKeyOf(a));
  t.not(publicKeyOf(a), publicKeyOf(b));
  t.false(publicKeyOf(a).equals(publicKeyOf(b)));
});

test('more certificates than the cache holds still each give their own key', (t) => {
  const pems = Array.from({ length: 300 }, pem);
  const keys = pems.map((p) => publicKeyOf(p));
  t.true(pems.every((p, i) => publicKeyOf(p).equals(keys[i]!)));
});
