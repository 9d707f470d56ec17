/**
 * The signature check finds the referenced element, the loaded signature's copy and the first SignedInfo
 * by walking the DOM (`adapters/saml/verify/reference-lookup.ts`, issue #14), not by xml-crypto's XPath:
 *
 * - the walks select exactly what xml-crypto's XPath expressions select, on xml-crypto's own parse (its
 *   nested @xmldom/xmldom and xpath copies), for hostile shapes: an ID under another attribute name, a
 *   prefixed `foo:ID`, a namespace declaration `xmlns:ID` carrying the ID, duplicates, nested and wrapped
 *   elements, a Signature or SignedInfo in a foreign namespace, comments;
 * - the signatures the walks accept and refuse are the library's (valid, tampered, duplicated IDs);
 * - a signature check evaluates no XPath expression at all (the loader, `load-signature.ts`, and the
 *   comment removal, `canonicalize.ts`, read exact elements too).
 */
import { createRequire } from 'node:module';
import test from 'ava';
import type { Document, Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { verifyOne } from '../../../adapters/saml/verify/signatures.ts';
import {
  dereferenceWithoutXpath,
  elementsWithId,
  firstSignedInfo,
  signatureElementsUnder,
} from '../../../adapters/saml/verify/reference-lookup.ts';
import { DEFAULT_SIGNATURE_METHODS } from '../../../adapters/saml/xmldsig.ts';
import { parseStrictXml } from '../../../adapters/saml/xml/parse.ts';
import { baselineFields, responseXml } from '../../helpers/saml/response-builder.ts';
import { createTestIdp, signElement } from '../../helpers/saml/test-idp.ts';

// xml-crypto's own copies, as it parses and selects
const fromXmlCrypto = createRequire(createRequire(import.meta.url).resolve('xml-crypto'));
const xpath = fromXmlCrypto('xpath') as {
  select(expression: string, node: unknown): unknown;
  selectWithResolver: (expression: string, ...rest: unknown[]) => unknown;
};
const { DOMParser } = fromXmlCrypto('@xmldom/xmldom') as {
  DOMParser: new () => { parseFromString(xml: string, type?: string): Document };
};
const parse = (xml: string) => new DOMParser().parseFromString(xml, 'text/xml');

/** The same nodes (identity), in the same order. */
const same = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((n, i) => n === b[i]);

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const ID = '_target';
const HOSTILE: Record<string, string> = {
  plain: `<r><a ID="${ID}"/></r>`,
  'three attribute names': `<r><a ID="${ID}"/><b Id="${ID}"/><c id="${ID}"/></r>`,
  'same element twice': `<r><a ID="${ID}" Id="${ID}"/></r>`,
  'prefixed attribute': `<r xmlns:foo="urn:foo"><a foo:ID="${ID}"/><b ID="other"/></r>`,
  'namespace declaration': `<r><a xmlns:ID="${ID}"/><b xmlns:Id="${ID}"/></r>`,
  'default namespace declaration': `<r><a xmlns="${ID}"/></r>`,
  'nested and wrapped': `<r><w ID="${ID}"><a ID="${ID}"><b ID="${ID}x"/></a></w><!--${ID}--></r>`,
  'value in text only': `<r><a>${ID}</a><b ID=" ${ID}"/><c ID="${ID} "/></r>`,
  'root itself': `<r ID="${ID}"><a ID="x"/></r>`,
  absent: `<r><a ID="x"/></r>`,
  signatures: `<r xmlns:ds="${DSIG}" xmlns:evil="urn:evil"><ds:Signature><ds:SignedInfo/></ds:Signature><evil:Signature><evil:SignedInfo/></evil:Signature><Signature xmlns="${DSIG}"><x:Signature xmlns:x="${DSIG}"/></Signature><SignedInfo/></r>`,
  'foreign SignedInfo first': `<r xmlns:e="urn:e"><e:SignedInfo/><ds:Signature xmlns:ds="${DSIG}"><ds:SignedInfo/></ds:Signature></r>`,
};

for (const [name, xml] of Object.entries(HOSTILE)) {
  test(`the ID walk selects what xml-crypto's XPath selects: ${name}`, (t) => {
    const doc = parse(xml);
    for (const attr of ['Id', 'ID', 'id', 'xmlns']) {
      for (const id of [ID, `${ID}x`, 'other', 'urn:foo']) {
        const expected = xpath.select(`//*[@*[local-name(.)='${attr}']='${id}']`, doc) as Element[];
        t.true(same(elementsWithId(doc, attr, id), expected), `${attr}=${id}`);
      }
    }
  });

  test(`the Signature and SignedInfo walks select what xml-crypto's XPath selects: ${name}`, (t) => {
    const doc = parse(xml);
    const signatures = xpath.select(`.//*[local-name(.)='Signature' and namespace-uri(.)='${DSIG}']`, doc) as Element[];
    t.true(same(signatureElementsUnder(doc), signatures));
    const signedInfos = xpath.select(`//*[local-name()='SignedInfo']`, doc) as Element[];
    t.is(firstSignedInfo(doc), signedInfos[0]);
  });
}

async function signedResponse() {
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
  return { xml, certificatePem: idp.certificatePem, assertionId: f.assertionId };
}

/** The gateway's check (`verifyOne`, with the walks) of the Assertion's signature in `xml`. */
function gatewayCheck(xml: string, certificatePem: string): string {
  const doc = parseStrictXml(xml);
  const assertion = doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Assertion')[0]!;
  const signature = doc.getElementsByTagNameNS(DSIG, 'Signature')[0]!;
  return verifyOne(doc, signature, assertion, [certificatePem], DEFAULT_SIGNATURE_METHODS, []).xml;
}

/** The library's own check (its XPath lookups), same signature element. */
function libraryCheck(xml: string, certificatePem: string, walks = false): string[] {
  const doc = parseStrictXml(xml);
  const sig = new SignedXml({ publicCert: certificatePem });
  if (walks) dereferenceWithoutXpath(sig);
  sig.loadSignature(doc.getElementsByTagNameNS(DSIG, 'Signature')[0] as never);
  if (!sig.checkSignature(xml)) throw new Error('checkSignature returned false');
  return sig.getSignedReferences();
}

test('a valid signature gives the bytes the library gives', async (t) => {
  const { xml, certificatePem } = await signedResponse();
  const library = libraryCheck(xml, certificatePem);
  t.deepEqual(libraryCheck(xml, certificatePem, true), library);
  t.is(gatewayCheck(xml, certificatePem), library[0]);
});

test('what the library refuses, the walks refuse: tampering, an ID repeated under any attribute name', async (t) => {
  const { xml, certificatePem, assertionId } = await signedResponse();
  const hostile = [
    xml.replace('Lovelace', 'Byron'),
    xml.replace('<samlp:Status>', `<samlp:Extensions><x Id="${assertionId}"/></samlp:Extensions><samlp:Status>`),
    xml.replace('<samlp:Status>', `<samlp:Extensions><x id="${assertionId}"/></samlp:Extensions><samlp:Status>`),
    xml.replace('<samlp:Status>', `<samlp:Extensions><x ID="${assertionId}"/></samlp:Extensions><samlp:Status>`),
  ];
  for (const [i, bad] of hostile.entries()) {
    t.throws(() => libraryCheck(bad, certificatePem), undefined, `library, case ${i}`);
    t.throws(() => libraryCheck(bad, certificatePem, true), undefined, `walks, case ${i}`);
    t.throws(() => gatewayCheck(bad, certificatePem), { code: 'SAML_SIGNATURE_INVALID' }, `gateway, case ${i}`);
  }
});

test('a signature check evaluates no XPath expression at all', async (t) => {
  const { xml, certificatePem } = await signedResponse();
  const evaluated: string[] = [];
  const original = xpath.selectWithResolver;
  xpath.selectWithResolver = (expression: string, ...rest: unknown[]) => {
    evaluated.push(expression);
    return original(expression, ...rest);
  };
  let library: string[];
  try {
    libraryCheck(xml, certificatePem, true); // the control: the library's own loadSignature, walks installed
    library = evaluated.splice(0);
    gatewayCheck(xml, certificatePem);
  } finally {
    xpath.selectWithResolver = original;
  }
  t.true(library.length > 0, 'the spy sees the library select'); // loadSignature's own, inside the Signature
  t.deepEqual(evaluated, []); // loadSignatureExact, canonicalize's comment walk and the walks above: no XPath
});
