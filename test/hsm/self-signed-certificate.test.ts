/** A self-signed certificate whose signature is made in the token verifies with its own public key. */
import { X509Certificate } from 'node:crypto';
import test from 'ava';
import { ALGORITHMS } from '../../hsm/algorithms.ts';
import { HsmError } from '../../hsm/errors.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { selfSignedCertificate } from '../../hsm/x509.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token);
});
test.after.always(async () => {
  await store?.close();
});

for (const row of ALGORITHMS) {
  if (row.custody !== 'token') {
    test.skip(`${row.name}: no self-signed certificate (SAML certificates serve XML-DSig keys in the token; ${row.xmlDsigAbsent})`, () =>
      undefined);
    continue;
  }
  test(`a ${row.name} self-signed certificate verifies with its own public key`, async (t) => {
    const signer = await store.generate('saml', row.name);
    const pem = await selfSignedCertificate(signer, { subject: `CN=gateway ${row.name}, O=Test`, days: 30 });
    t.regex(pem, /^-----BEGIN CERTIFICATE-----/);
    const certificate = new X509Certificate(pem);
    t.true(certificate.verify(certificate.publicKey), 'self-signature');
    t.true(certificate.publicKey.equals(signer.publicKey()), 'certificate holds the token key');
    t.is(certificate.issuer, certificate.subject);
    t.is(certificate.subject, `CN=gateway ${row.name}\nO=Test`);
    t.false(certificate.ca);
  });
}

test('a non-positive validity throws HSM_CONFIG_INVALID', async (t) => {
  const signer = await store.generate('client_auth', 'ES256');
  const error = await t.throwsAsync(selfSignedCertificate(signer, { subject: 'CN=x', days: 0 }), {
    instanceOf: HsmError,
  });
  t.is(error?.code, 'HSM_CONFIG_INVALID');
});
