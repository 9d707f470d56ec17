/** The programmable Response builder: honest defaults, and every override lands where a hostile message needs it. */
import test from 'ava';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { ResponseOverrides } from '../../conformance/saml-idp/index.ts';
import { makeFakeSp } from './fake-sp.ts';
import { buildTestResponse, testPki } from './idp-fixture.ts';

const saml = 'urn:oasis:names:tc:SAML:2.0:assertion';
const dsig = 'http://www.w3.org/2000/09/xmldsig#';

function build(overrides?: ResponseOverrides) {
  const pki = testPki();
  const built = buildTestResponse(overrides);
  const doc = new DOMParser().parseFromString(built.xml, 'text/xml');
  return { built, doc, root: doc.documentElement as Element, pki };
}

test('no override: one signature, on the Assertion', (t) => {
  const { doc, root } = build();
  const signatures = doc.getElementsByTagNameNS(dsig, 'Signature');
  t.is(signatures.length, 1);
  t.is((signatures[0]!.parentNode as Element).localName, 'Assertion');
  t.is(root.getAttribute('InResponseTo'), '_req');
});

test('signAssertion false + inResponseTo null: an unsigned, unsolicited Response', (t) => {
  const { doc, root, built } = build({ signAssertion: false, inResponseTo: null });
  t.is(doc.getElementsByTagNameNS(dsig, 'Signature').length, 0);
  t.false(root.hasAttribute('InResponseTo'));
  t.false(built.xml.includes('InResponseTo'));
});

test('signingKey: the signature verifies only with the attacker key', async (t) => {
  const attacker = await makeFakeSp();
  const { doc, built, pki } = build({
    signingKey: { privateKeyPem: attacker.privateKeyPem, certPem: attacker.certPem },
  });
  const signature = doc.getElementsByTagNameNS(dsig, 'Signature')[0]!.toString();
  const withIdp = new SignedXml({ publicCert: pki.idpCertPem, getCertFromKeyInfo: () => null });
  withIdp.loadSignature(signature);
  t.throws(() => withIdp.checkSignature(built.xml));
  const withAttacker = new SignedXml({ publicCert: attacker.certPem, getCertFromKeyInfo: () => null });
  withAttacker.loadSignature(signature);
  t.true(withAttacker.checkSignature(built.xml));
});

test('attributes are merged, removed with null, and escaped', (t) => {
  const { doc } = build({ attributes: { email: null, given_name: 'Ma<rie>&"', extra: '{Audience}' } });
  const values = Object.fromEntries(
    Array.from(doc.getElementsByTagNameNS(saml, 'Attribute')).map((a: Element) => [
      a.getAttribute('Name'),
      a.textContent,
    ]),
  );
  t.false('email' in values);
  t.is(values.given_name, 'Ma<rie>&"');
  t.is(values.extra, '{Audience}');
  t.is(doc.getElementsByTagNameNS(saml, 'Audience')[0]?.textContent, 'urn:sp');
});

test('times, issuer, recipient, LoA and status can be falsified', (t) => {
  const past = new Date('2020-01-01T00:00:00Z');
  const { doc, root } = build({
    notOnOrAfter: past,
    issuer: 'https://evil.test',
    recipient: 'https://evil.test/acs',
    authnContextClassRef: 'http://eidas.europa.eu/LoA/high',
    statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
  });
  t.is((doc.getElementsByTagNameNS(saml, 'Conditions')[0] as Element).getAttribute('NotOnOrAfter'), past.toISOString());
  t.is(doc.getElementsByTagNameNS(saml, 'Issuer')[0]?.textContent, 'https://evil.test');
  t.is(
    (doc.getElementsByTagNameNS(saml, 'SubjectConfirmationData')[0] as Element).getAttribute('Recipient'),
    'https://evil.test/acs',
  );
  t.is(doc.getElementsByTagNameNS(saml, 'AuthnContextClassRef')[0]?.textContent, 'http://eidas.europa.eu/LoA/high');
  t.regex(root.toString(), /StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/);
});
