/**
 * CRYPTO-SAML-07 judges whether the key of an AuthnRequest is one the SP metadata publishes for signing and
 * fits its SignatureMethod: an ECDSA request with a published EC certificate passes, one whose EC key is
 * missing from the metadata (or listed only for encryption) fails, and so does an ECDSA method over an RSA key.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { judgeRequestKeyPublished } from '../../conformance/suite/checks/crypto/saml-metadata.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-saml-07-'));

function certificate(kind: 'ec' | 'rsa'): string {
  const out = join(dir, `${kind}.crt`);
  const newkey = kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:3072'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...newkey,
      '-nodes',
      '-sha256',
      '-days',
      '2',
      '-subj',
      `/CN=${kind}`,
      '-keyout',
      join(dir, `${kind}.key`),
      '-out',
      out,
    ],
    { stdio: 'pipe' },
  );
  return readFileSync(out, 'utf8').replace(/-----[A-Z ]+-----|\s/g, '');
}

const ec = certificate('ec');
const rsa = certificate('rsa');
const ECDSA = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
const RSA = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

const request = (method: string, cert: string) =>
  `<samlp:AuthnRequest ID="_1"><ds:Signature><ds:SignedInfo><ds:SignatureMethod Algorithm="${method}"/></ds:SignedInfo>` +
  `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></samlp:AuthnRequest>`;
const descriptor = (use: string, cert: string) =>
  `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const metadata = (...descriptors: string[]) =>
  `<md:EntityDescriptor><md:SPSSODescriptor>${descriptors.join('')}</md:SPSSODescriptor></md:EntityDescriptor>`;

test('an ECDSA request whose EC certificate the metadata publishes for signing passes', (t) => {
  t.true(
    judgeRequestKeyPublished(request(ECDSA, ec), metadata(descriptor('signing', rsa), descriptor('signing', ec)))[0],
  );
  t.true(
    judgeRequestKeyPublished(request(RSA, rsa), metadata(descriptor('signing', rsa), descriptor('signing', ec)))[0],
  );
});

test('a request key missing from the metadata, or listed only for encryption, fails', (t) => {
  t.false(judgeRequestKeyPublished(request(ECDSA, ec), metadata(descriptor('signing', rsa)))[0]);
  t.false(
    judgeRequestKeyPublished(request(ECDSA, ec), metadata(descriptor('signing', rsa), descriptor('encryption', ec)))[0],
  );
});

test('a SignatureMethod that does not fit the key type fails, and so does an unsigned request', (t) => {
  t.false(judgeRequestKeyPublished(request(ECDSA, rsa), metadata(descriptor('signing', rsa)))[0]);
  t.false(judgeRequestKeyPublished('<samlp:AuthnRequest ID="_1"/>', metadata(descriptor('signing', rsa)))[0]);
});
