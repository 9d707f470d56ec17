import test from 'ava';
import pkcs11js from 'pkcs11js';
import { algorithm, algorithmByXmlDsigUri, ALGORITHMS } from '../../hsm/algorithms.ts';
import { HsmError } from '../../hsm/errors.ts';
import * as numbers from '../../hsm/pkcs11/numbers.ts';

test('every row is found by its JOSE alg and by its XML-DSig SignatureMethod URI', (t) => {
  for (const row of ALGORITHMS) {
    t.is(algorithm(row.name), row);
    t.is(algorithmByXmlDsigUri(row.xmlDsig.signatureMethod), row);
  }
  t.deepEqual(ALGORITHMS.map((row) => row.name), ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']);
});

for (const name of ['HS256', 'none', 'RS1', 'ES512', 'rs256', '', '__proto__', 'toString']) {
  test(`unknown alg ${JSON.stringify(name)} throws HSM_ALG_UNKNOWN`, (t) => {
    const error = t.throws(() => algorithm(name), { instanceOf: HsmError });
    t.is(error?.code, 'HSM_ALG_UNKNOWN');
  });
}

for (const uri of [
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1',
  'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]) {
  test(`unknown XML-DSig URI ${uri} throws HSM_ALG_UNKNOWN`, (t) => {
    const error = t.throws(() => algorithmByXmlDsigUri(uri), { instanceOf: HsmError });
    t.is(error?.code, 'HSM_ALG_UNKNOWN');
  });
}

test('SHA-1 appears nowhere in the registry', (t) => {
  t.notRegex(JSON.stringify(ALGORITHMS), /sha-?1(?![0-9])/i);
  t.true(ALGORITHMS.every((row) => row.hash !== ('sha1' as string)));
});

test('names and URIs are unique', (t) => {
  t.is(new Set(ALGORITHMS.map((row) => row.name)).size, ALGORITHMS.length);
  t.is(new Set(ALGORITHMS.map((row) => row.xmlDsig.signatureMethod)).size, ALGORITHMS.length);
});

test('the PKCS#11 numbers pkcs11js names match ours', (t) => {
  const named = pkcs11js as unknown as Record<string, number>;
  const ours = numbers as unknown as Record<string, unknown>;
  let compared = 0;
  for (const [name, value] of Object.entries(ours)) {
    if (typeof value !== 'number' || named[name] === undefined) continue;
    t.is(value, named[name], name);
    compared += 1;
  }
  t.true(compared >= 10);
});
