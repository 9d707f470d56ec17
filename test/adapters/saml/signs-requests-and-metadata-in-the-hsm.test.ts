/**
 * Outgoing SAML is signed inside the token: the AuthnRequest (for every algorithm of the `hsm/`
 * registry) and the SP metadata verify with xml-crypto against the signer's certificate; interpolated
 * values stay text (SAML-GEN-01); startLogin stores the pending request for the browser.
 */
import { createHash, verify, X509Certificate, type KeyLike } from 'node:crypto';
import test from 'ava';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { buildAuthnRequest, signedAuthnRequest } from '../../../adapters/saml/authn-request.ts';
import { ALGORITHMS, type XmlDsigAlgorithmRow } from '../../../hsm/algorithms.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import { freshToken } from '../../helpers/services.ts';
import { createSamlTestBed, openSpKeys, SP, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';

const token = freshToken();
let keys: SpKeys;
let bed: SamlTestBed;

test.before(async () => {
  keys = await openSpKeys(token);
  bed = await createSamlTestBed(keys);
});
test.after.always(async () => {
  await bed?.close();
  await keys?.store.close();
});

/** xml-crypto verification of one signature, with a verify class for algorithms xml-crypto lacks. */
function verifiesWithXmlCrypto(xml: string, certificatePem: string, row: XmlDsigAlgorithmRow): boolean {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signatures = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature');
  if (signatures.length !== 1) return false;
  const sig = new SignedXml({ publicCert: certificatePem });
  sig.HashAlgorithms['http://www.w3.org/2001/04/xmldsig-more#sha384'] ??= class {
    getAlgorithmName = () => 'http://www.w3.org/2001/04/xmldsig-more#sha384';
    getHash = (data: string) => createHash('sha384').update(data).digest('base64');
  };
  sig.SignatureAlgorithms[row.xmlDsig.signatureMethod] ??= class {
    getAlgorithmName = () => row.xmlDsig.signatureMethod;
    getSignature = (): string => {
      throw new Error('verify only');
    };
    verifySignature = (material: string, key: KeyLike, value: string) =>
      verify(
        row.hash,
        Buffer.from(material),
        { key: new X509Certificate(key as string).publicKey, ...row.nodeVerify },
        Buffer.from(value, 'base64'),
      );
  } as never;
  sig.loadSignature(signatures[0] as never);
  return sig.checkSignature(xml);
}

for (const entry of ALGORITHMS) {
  if (entry.xmlDsig === null) {
    test.skip(`${entry.name} has no XML-DSig row: ${entry.xmlDsigAbsent}`, () => undefined);
    continue;
  }
  const row: XmlDsigAlgorithmRow = entry;
  test(`an AuthnRequest signed in the token with ${row.name} verifies with xml-crypto`, async (t) => {
    const signer =
      keys.store.activeSigners('saml').find((s) => s.alg === row.name) ?? (await keys.store.generate('saml', row.name));
    const certificatePem = await selfSignedCertificate(signer, { subject: `CN=sp ${row.name}`, days: 1 });
    const { id, xml } = await signedAuthnRequest(
      {
        spEntityId: SP.entityId,
        acsUrl: SP.acsUrl,
        destination: 'https://idp.test.example/sso',
        minimumLoa: 'http://eidas.europa.eu/LoA/substantial',
        forceAuthn: true,
        issueInstant: new Date(),
      },
      signer,
      certificatePem,
    );
    t.true(verifiesWithXmlCrypto(xml, certificatePem, row));
    t.regex(xml, new RegExp(`<ds:Reference URI="#${id}">`));
    t.regex(xml, /<\/saml:Issuer><ds:Signature/);
    t.regex(xml, new RegExp(`SignatureMethod Algorithm="${row.xmlDsig.signatureMethod}"`));
    t.false(verifiesWithXmlCrypto(xml.replace('ForceAuthn="true"', 'ForceAuthn="false"'), certificatePem, row));
  });
}

test('startLogin posts a signed AuthnRequest and stores the pending request for 10 minutes', async (t) => {
  const started = await bed.adapter.startLogin({
    loginId: 'L1',
    browserBinding: 'B1',
    minimumLoa: 'http://eidas.europa.eu/LoA/low',
    forceAuthn: false,
  });
  if (started.binding !== 'post') return t.fail('expected POST');
  t.is(started.url, bed.idp.ssoUrl);
  t.true(Buffer.byteLength(started.fields['RelayState']!) <= 80);
  const xml = Buffer.from(started.fields['SAMLRequest']!, 'base64').toString('utf8');
  t.true(
    verifiesWithXmlCrypto(
      xml,
      keys.certificatePem,
      ALGORITHMS.find((r): r is XmlDsigAlgorithmRow => r.name === 'RS256')!,
    ),
  );
  for (const part of [
    'Comparison="minimum"',
    'http://eidas.europa.eu/LoA/low',
    `AssertionConsumerServiceURL="${SP.acsUrl}"`,
    'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"',
    `Destination="${bed.idp.ssoUrl}"`,
  ]) {
    t.true(xml.includes(part), part);
  }
  t.false(xml.includes('ForceAuthn'));
  const id = /\sID="([^"]+)"/.exec(xml)![1]!;
  const pending = JSON.parse((await bed.state.get(`saml:pending:${id}`))!);
  t.like(pending, {
    loginId: 'L1',
    browserBinding: 'B1',
    idp: 'test-idp',
    minimumLoa: 'http://eidas.europa.eu/LoA/low',
  });
});

test('a LoA above what the IdP can assert is refused at start', async (t) => {
  const error = await t.throwsAsync(
    bed.adapter.startLogin({
      loginId: 'L2',
      browserBinding: 'B',
      minimumLoa: 'http://eidas.europa.eu/LoA/high',
      forceAuthn: false,
    }),
  );
  t.is((error as { code?: string }).code, 'SAML_LOA_UNAVAILABLE');
});

test('markup in interpolated values stays text', (t) => {
  const hostile = 'https://sp.example/"><samlp:Extensions/><!-- ]]> -->';
  const { xml } = buildAuthnRequest({
    spEntityId: hostile,
    acsUrl: SP.acsUrl,
    destination: 'https://idp.example/"/><x',
    minimumLoa: 'http://eidas.europa.eu/LoA/low',
    forceAuthn: false,
    issueInstant: new Date(),
  });
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  t.is(doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:protocol', 'Extensions').length, 0);
  t.is(doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer')[0]!.textContent, hostile);
  t.is(doc.documentElement!.getAttribute('Destination'), 'https://idp.example/"/><x');
});

test('SP metadata is signed in the token and says what we require', async (t) => {
  const xml = await bed.adapter.metadata();
  t.true(
    verifiesWithXmlCrypto(
      xml,
      keys.certificatePem,
      ALGORITHMS.find((r): r is XmlDsigAlgorithmRow => r.name === 'RS256')!,
    ),
  );
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const root = doc.documentElement!;
  t.is(root.getAttribute('entityID'), SP.entityId);
  t.regex(root.getAttribute('ID') ?? '', /^_[0-9a-f]{32}$/);
  t.regex(xml, /^<md:EntityDescriptor[^>]*><ds:Signature/);
  t.regex(xml, /AuthnRequestsSigned="true" WantAssertionsSigned="true"/);
  t.regex(xml, /<md:KeyDescriptor use="signing">/);
  t.true(xml.includes(`Location="${SP.acsUrl}"`));
});
