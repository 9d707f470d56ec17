import test from 'ava';
import pkcs11js from 'pkcs11js';
import {
  algorithm,
  algorithmByXmlDsigUri,
  ALGORITHMS,
  assertAcknowledged,
  tokenAlgorithm,
  xmlDsigAlgorithm,
} from '../../hsm/algorithms.ts';
import { HsmError } from '../../hsm/errors.ts';
import * as numbers from '../../hsm/pkcs11-numbers.ts';

test('every row is found by its JOSE alg and by its XML-DSig SignatureMethod URI', (t) => {
  for (const row of ALGORITHMS) {
    t.is(algorithm(row.name), row);
    if (row.xmlDsig !== null) t.is(algorithmByXmlDsigUri(row.xmlDsig.signatureMethod), row);
  }
  t.deepEqual(
    ALGORITHMS.map((row) => row.name),
    ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'ML-DSA-65'],
  );
});

test('rows without a PKCS#11 mechanism or XML-DSig URI are exactly the experimental in-process rows, each saying why', (t) => {
  for (const row of ALGORITHMS) {
    t.is(row.experimental, row.custody === 'process', row.name);
    t.is(row.pkcs11 === null, row.custody === 'process', row.name);
    t.is(row.xmlDsig === null, row.custody === 'process', row.name);
    if (row.xmlDsig === null) t.regex(row.xmlDsigAbsent, /standardised/);
  }
  t.deepEqual(
    ALGORITHMS.filter((row) => row.experimental).map((row) => row.name),
    ['ML-DSA-65'],
  );
});

test('an experimental row is refused without the acknowledgement, and has no token or XML-DSig resolution', (t) => {
  const row = algorithm('ML-DSA-65');
  t.is(
    t.throws(() => assertAcknowledged(row, false), { instanceOf: HsmError })?.code,
    'HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED',
  );
  t.notThrows(() => assertAcknowledged(row, true));
  t.notThrows(() => assertAcknowledged(algorithm('ES256'), false));
  t.is(t.throws(() => tokenAlgorithm('ML-DSA-65'), { instanceOf: HsmError })?.code, 'HSM_ALG_UNKNOWN');
  t.is(t.throws(() => xmlDsigAlgorithm('ML-DSA-65'), { instanceOf: HsmError })?.code, 'HSM_ALG_UNKNOWN');
  t.is(tokenAlgorithm('PS256').name, 'PS256');
  t.is(xmlDsigAlgorithm('ES384').xmlDsig.signatureMethod, 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384');
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
  const uris = ALGORITHMS.flatMap((row) => (row.xmlDsig ? [row.xmlDsig.signatureMethod] : []));
  t.is(new Set(uris).size, uris.length);
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
