/** The development PKI: a CA and an RSA 3072 / SHA-256 IdP signing certificate it issued; made once, then kept. */
import test from 'ava';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki } from '../../certs/dev-pki.ts';

test('ensureDevPki makes a CA and an IdP certificate it signed, and keeps them on the next call', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dev-pki-test-'));
  const first = ensureDevPki(dir);
  t.is(first.dir, dir);
  const ca = new X509Certificate(first.caCertPem);
  const idp = new X509Certificate(first.idpCertPem);
  t.true(ca.ca);
  t.false(idp.ca);
  t.true(idp.checkIssued(ca));
  t.true(idp.verify(ca.publicKey));
  t.is(idp.publicKey.asymmetricKeyDetails?.modulusLength, 3072);
  t.is(
    createPublicKey(first.idpKeyPem).export({ type: 'spki', format: 'pem' }),
    idp.publicKey.export({ type: 'spki', format: 'pem' }),
  );
  t.regex(idp.subject, /NOT FOR PRODUCTION/);

  const second = ensureDevPki(dir);
  t.deepEqual(second, first);
  t.is(readFileSync(join(dir, 'demo-idp-signing.key.pem'), 'utf8'), first.idpKeyPem);
});
