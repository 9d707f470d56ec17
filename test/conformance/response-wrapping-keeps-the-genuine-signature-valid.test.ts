/**
 * XSW1 and XSW2 of the conformance suite are the attacks they name (conformance review, thirty-seventh round: their
 * evil copy kept a broken Assertion signature and XSW2 threw the signed original away, so a gateway refused them for
 * another reason, and a vulnerable one would have too). On a Response the IdP signed at its root only: the genuine
 * signature still verifies over the signed original, which is in the document once; the root a careless reader takes
 * is the evil Response, with its evil NameID, no signature of its own, and IDs of its own.
 */
import test from 'ava';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { evilNameId, wrapSignature } from '../../conformance/saml-idp/hostile/wrap.ts';
import { buildTestResponse, testPki } from './idp-fixture.ts';

const saml = 'urn:oasis:names:tc:SAML:2.0:assertion';
const dsig = 'http://www.w3.org/2000/09/xmldsig#';

for (const variant of ['XSW1', 'XSW2'] as const) {
  test(`${variant}: the genuine signature verifies over the signed original; the root is the evil Response`, (t) => {
    const pki = testPki();
    const built = buildTestResponse({ signResponse: true, signAssertion: false });
    const genuineId = new DOMParser().parseFromString(built.xml, 'text/xml').documentElement!.getAttribute('ID')!;
    const wrapped = wrapSignature(variant, built.xml);
    const doc = new DOMParser().parseFromString(wrapped, 'text/xml');
    const root = doc.documentElement as Element;

    const signatures = Array.from(doc.getElementsByTagNameNS(dsig, 'Signature'));
    t.is(signatures.length, 1, 'one signature: the genuine one, moved');
    t.is((signatures[0]!.parentNode as Element).getAttribute('ID'), root.getAttribute('ID'), 'held by the evil root');
    const verifier = new SignedXml({ publicCert: pki.idpCertPem, getCertFromKeyInfo: () => null });
    verifier.loadSignature(signatures[0]!.toString());
    t.true(verifier.checkSignature(wrapped), 'the signature is still valid: a verifier must not stop there');
    t.deepEqual(verifier.getSignedReferences().length, 1);

    t.not(root.getAttribute('ID'), genuineId);
    const ids = Array.from(doc.getElementsByTagName('*')).flatMap((e) =>
      e.hasAttribute('ID') ? [e.getAttribute('ID')] : [],
    );
    t.is(new Set(ids).size, ids.length, 'every ID once');
    t.is(ids.filter((id) => id === genuineId).length, 1, 'the signed original is in the document');
    const rootAssertion = Array.from(root.childNodes).find(
      (n): n is Element => (n as Element).localName === 'Assertion' && (n as Element).namespaceURI === saml,
    );
    t.is(rootAssertion?.getElementsByTagNameNS(saml, 'NameID')[0]?.textContent, evilNameId);
  });
}
