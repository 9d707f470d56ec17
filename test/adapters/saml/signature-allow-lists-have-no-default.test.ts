/**
 * No default parameter for a signature-algorithm allow-list (issue #11 item 6): a caller that forgets the
 * IdP's list gets an error (a type error in TypeScript, a TypeError at run time), never "every algorithm the
 * table knows".
 */
import test from 'ava';
import { SignedXml } from 'xml-crypto';
import {
  allowedSignatureMethod,
  DEFAULT_SIGNATURE_METHODS,
  EIDAS_SIGNATURE_METHODS,
  restrictAlgorithms,
} from '../../../adapters/saml/xmldsig.ts';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

test('the allow-list given is the one applied', (t) => {
  t.truthy(allowedSignatureMethod(RSA_SHA256, DEFAULT_SIGNATURE_METHODS));
  t.is(
    allowedSignatureMethod(RSA_SHA256, EIDAS_SIGNATURE_METHODS),
    undefined,
    'RSA PKCS#1 v1.5 is not an eIDAS method',
  );
  const sig = new SignedXml({});
  restrictAlgorithms(sig, EIDAS_SIGNATURE_METHODS);
  t.false(Object.hasOwn(sig.SignatureAlgorithms, RSA_SHA256));
  t.true(Object.keys(sig.SignatureAlgorithms).every((uri) => EIDAS_SIGNATURE_METHODS.includes(uri)));
});

test('a forgotten allow-list is an error, not the whole table', (t) => {
  // @ts-expect-error the allow-list is required
  t.throws(() => allowedSignatureMethod(RSA_SHA256), { instanceOf: TypeError });
  // @ts-expect-error the allow-list is required
  t.throws(() => restrictAlgorithms(new SignedXml({})), { instanceOf: TypeError });
});
