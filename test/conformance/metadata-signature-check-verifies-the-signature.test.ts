/**
 * CRYPTO-SAML-01 ("SP metadata is signed") verifies the signature it reports (conformance review, thirty-seventh round:
 * it counted Algorithm attributes, and unsigned metadata carrying two eIDAS `alg:DigestMethod` passed): a signature of
 * the root that verifies passes; unsigned metadata, metadata changed after signing, or a signature of something else
 * than the root fails.
 */
import test from 'ava';
import { SignedXml } from 'xml-crypto';
import { judgeMetadataSigned } from '../../conformance/suite/checks/crypto/saml-metadata.ts';
import { testPki } from './idp-fixture.ts';

const METADATA = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:alg="urn:oasis:names:tc:SAML:metadata:algsupport" ID="_md1" entityID="https://gw.example/saml/metadata"><md:Extensions><alg:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><alg:DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#sha384"/></md:Extensions><md:SPSSODescriptor ID="_sp1" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`;

function signed(xpath: string, xml = METADATA): string {
  const pki = testPki();
  const sig = new SignedXml({
    privateKey: pki.idpKeyPem,
    publicCert: pki.idpCertPem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'prepend' } });
  return sig.getSignedXml();
}

test('metadata whose root signature verifies passes', (t) => {
  const [ok, observed] = judgeMetadataSigned(signed('/*'));
  t.true(ok, observed);
  t.regex(observed, /^verifies; references #_md1 \(the root\)/);
});

test('unsigned metadata fails, whatever Algorithm attributes its extensions carry', (t) => {
  const [ok, observed] = judgeMetadataSigned(METADATA);
  t.false(ok);
  t.regex(observed, /^unsigned/);
});

test('metadata changed after signing fails', (t) => {
  const [ok, observed] = judgeMetadataSigned(signed('/*').replace('https://gw.example/', 'https://attacker.example/'));
  t.false(ok);
  t.regex(observed, /does NOT verify/);
});

test('a root signature over another element than the root fails', (t) => {
  const [ok, observed] = judgeMetadataSigned(signed("//*[local-name(.)='SPSSODescriptor']"));
  t.false(ok, observed);
  t.regex(observed, /NOT the root alone/);
});
