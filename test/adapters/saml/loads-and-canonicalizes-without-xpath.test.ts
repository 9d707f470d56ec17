/**
 * The last two XPath users of a signature check, replaced (issue #14):
 *
 * - `loadSignatureExact` (`load-signature.ts`) sets what xml-crypto's `loadSignature` sets, from the exact
 *   elements, on a valid signature (then the check succeeds on both) and the library's own XPath lookup
 *   is shown to take a look-alike that the exact reader does not;
 * - `canonicalize.ts` writes the same bytes as the library's `canonicalize` for every transform list the
 *   shape check allows, with and without comment removal, on a document full of comments (its copy made
 *   without the Signature when enveloped-signature comes first), and leaves the received document as it was.
 *
 * And the finding behind the look-alike refusals: the `xpath` package xml-crypto uses compares QName name
 * tests case-insensitively on @xmldom/xmldom documents (it takes them for HTML), while `local-name(.)='…'`
 * (the only form xml-crypto's verification uses) and our walks compare exactly.
 */
import { createRequire } from 'node:module';
import test from 'ava';
import type { Element, Node } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { canonicalizeWithoutXpath } from '../../../adapters/saml/verify/canonicalize.ts';
import { loadSignatureExact } from '../../../adapters/saml/verify/load-signature.ts';
import { signatureElementsUnder } from '../../../adapters/saml/verify/reference-lookup.ts';
import { parseStrictXml } from '../../../adapters/saml/xml/parse.ts';
import { baselineFields, responseXml } from '../../helpers/saml/response-builder.ts';
import { createTestIdp, signElement } from '../../helpers/saml/test-idp.ts';

const fromXmlCrypto = createRequire(createRequire(import.meta.url).resolve('xml-crypto'));
const xpath = fromXmlCrypto('xpath') as {
  select(expression: string, node: unknown): unknown;
  useNamespaces(map: Record<string, string>): (expression: string, node: unknown) => unknown;
};
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const INCLUSIVE_C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';

interface Loaded {
  canonicalizationAlgorithm?: string;
  signatureAlgorithm?: string;
  signatureValue?: string;
  keyInfo?: Node | null;
  signatureNode?: Node | null;
  canonicalize(transforms: string[], node: Node, options: object, flags: { discardComments: boolean }): string;
}

async function signed() {
  const idp = await createTestIdp();
  const f = baselineFields({
    issuer: idp.entityId,
    acsUrl: 'https://sp.test.example/acs',
    spEntityId: 'https://sp.test.example',
    inResponseTo: '_req',
  });
  const xml = signElement(responseXml(f), {
    id: f.assertionId,
    privateKey: idp.privateKey,
    certificatePem: idp.certificatePem,
  });
  return { xml, certificatePem: idp.certificatePem };
}

const nodes = (xml: string) => {
  const doc = parseStrictXml(xml);
  return {
    doc,
    assertion: doc.getElementsByTagNameNS(ASSERTION, 'Assertion')[0] as Element,
    signature: doc.getElementsByTagNameNS(DSIG, 'Signature')[0] as Element,
  };
};

test('the exact loader sets what the library loads from a valid signature, and both checks pass', async (t) => {
  const { xml, certificatePem } = await signed();
  const { signature } = nodes(xml);
  const library = new SignedXml({ publicCert: certificatePem });
  library.loadSignature(signature as never);
  const exact = new SignedXml({ publicCert: certificatePem });
  loadSignatureExact(exact, signature);
  for (const field of [
    'canonicalizationAlgorithm',
    'signatureAlgorithm',
    'signatureValue',
    'keyInfo',
    'signatureNode',
  ] as const)
    t.is((exact as unknown as Loaded)[field], (library as unknown as Loaded)[field], field);
  t.true(library.checkSignature(xml));
  t.true(exact.checkSignature(xml));
  t.deepEqual(exact.getSignedReferences(), library.getSignedReferences());
});

test('the library loader takes a look-alike CanonicalizationMethod placed before SignedInfo; the exact one does not', async (t) => {
  const { xml, certificatePem } = await signed();
  const hostile = xml.replace(
    '<ds:SignedInfo>',
    '<x:CanonicalizationMethod xmlns:x="urn:evil" Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/><ds:SignedInfo>',
  );
  const { signature } = nodes(hostile);
  const library = new SignedXml({ publicCert: certificatePem });
  library.loadSignature(signature as never);
  t.is((library as unknown as Loaded).canonicalizationAlgorithm, INCLUSIVE_C14N); // the finding
  const exact = new SignedXml({ publicCert: certificatePem });
  loadSignatureExact(exact, signature);
  t.is((exact as unknown as Loaded).canonicalizationAlgorithm, EXC_C14N);
});

test('a SignatureValue holding anything but text is not loaded', async (t) => {
  const { xml, certificatePem } = await signed();
  const { signature } = nodes(xml.replace(/<ds:SignatureValue>([^<]{8})/, '<ds:SignatureValue>$1<!---->'));
  t.throws(() => loadSignatureExact(new SignedXml({ publicCert: certificatePem }), signature));
});

test('the comment walk writes the bytes the library writes, for every allowed transform list', async (t) => {
  const { xml, certificatePem } = await signed();
  const commented = xml
    .replace('<saml:Subject>', '<!--a--><saml:Subject><!--b-->')
    .replace('</saml:Issuer>', '</saml:Issuer><!--c--><!--d-->')
    .replace('<ds:SignedInfo>', '<!--e--><ds:SignedInfo>')
    .replace('Lovelace', 'Love<!--f-->lace');
  const { doc, assertion, signature } = nodes(commented);
  const received = doc.toString();
  for (const transforms of [[ENVELOPED, EXC_C14N], [EXC_C14N, ENVELOPED], [ENVELOPED], [EXC_C14N]]) {
    for (const discardComments of [true, false]) {
      const library = new SignedXml({ publicCert: certificatePem });
      library.loadSignature(signature as never);
      const walked = new SignedXml({ publicCert: certificatePem });
      walked.loadSignature(signature as never);
      canonicalizeWithoutXpath(walked);
      const expected = (library as unknown as Loaded).canonicalize(transforms, assertion, {}, { discardComments });
      const actual = (walked as unknown as Loaded).canonicalize(transforms, assertion, {}, { discardComments });
      t.is(actual, expected, `${transforms.join(' ')} discardComments=${discardComments}`);
    }
  }
  t.is(doc.toString(), received, 'the received document is unchanged: comments kept, the Signature in its place');
  t.is(signature.parentNode, assertion);
});

test('finding: QName tests of the xpath package ignore case on xmldom documents; local-name() and the walks do not', (t) => {
  const doc = parseStrictXml(
    `<r xmlns:ds="${DSIG}"><ds:signature/><ds:SIGNATURE/><x:Signature xmlns:x="${DSIG.toUpperCase()}"/></r>`,
  );
  t.is((xpath.useNamespaces({ ds: DSIG })('//ds:Signature', doc) as unknown[]).length, 2); // the quirk
  t.is((xpath.select(`.//*[local-name(.)='Signature' and namespace-uri(.)='${DSIG}']`, doc) as unknown[]).length, 0);
  t.is((xpath.select(`.//*[local-name(.)='SignedInfo']`, doc) as unknown[]).length, 0);
  t.is(signatureElementsUnder(doc).length, 0);
});
