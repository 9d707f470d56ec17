/**
 * Hostile Response shapes (security-conformance.md §3.2), each named after its shape the way node-saml
 * names fixtures (`response.<what>.<how>`). Each takes a validly signed baseline (or its fields) and
 * returns the XML an attacker would post.
 */
import { assertionXml, responseXml, samlId, type ResponseFields } from './response-builder.ts';
import { RSA_SHA1, SHA1, signElement, type TestIdp } from './test-idp.ts';

const ASSERTION = /<saml:Assertion[\s\S]*<\/saml:Assertion>/;
const SIGNATURE = /<ds:Signature[\s\S]*?<\/ds:Signature>/;

function assertionOf(xml: string): string {
  return ASSERTION.exec(xml)![0];
}

/** The attacker's own identity, for forged assertions. */
export const EVIL_NAMEID = 'admin@victim.example';

export const attacks = {
  /** SAML-SIG-06: an attribute value changed after signing. */
  'response.assertion-signed.attribute-tampered': (signed: string) => signed.replace('Lovelace', 'Byron'),

  /** SAML-SIG-01/02: every Signature removed. */
  'response.assertion-unsigned.signature-removed': (signed: string) =>
    signed.replaceAll(new RegExp(SIGNATURE, 'g'), ''),

  /** SAML-XSW-03: an unsigned evil Assertion (new ID) placed before the signed one. */
  'response.evil-assertion-before.signed-assertion-after': (signed: string, f: ResponseFields) =>
    signed.replace('<saml:Assertion', `${assertionXml(f, samlId(), EVIL_NAMEID)}<saml:Assertion`),

  /** SAML-XSW-04: the signed Assertion moved inside an evil Assertion. */
  'response.evil-assertion.signed-assertion-wrapped': (signed: string, f: ResponseFields) => {
    const evil = assertionXml(f, samlId(), EVIL_NAMEID);
    return signed.replace(ASSERTION, evil.replace('</saml:Assertion>', `${assertionOf(signed)}</saml:Assertion>`));
  },

  /** SAML-XSW-07: an evil Assertion with the same ID inside Extensions. */
  'response.extensions-evil-assertion.same-id': (signed: string, f: ResponseFields) =>
    signed.replace(
      '<samlp:Status>',
      `<samlp:Extensions>${assertionXml(f, f.assertionId, EVIL_NAMEID)}</samlp:Extensions><samlp:Status>`,
    ),

  /** SAML-XSW-08: the original Assertion hidden in a ds:Object, an evil one in its place. */
  'response.signature-object.original-assertion-inside': (signed: string, f: ResponseFields) => {
    const original = assertionOf(signed);
    const signature = SIGNATURE.exec(original)![0];
    const evil = assertionXml(f, f.assertionId, EVIL_NAMEID).replace(
      '</saml:Issuer>',
      `</saml:Issuer>${signature.replace('</ds:Signature>', `<ds:Object>${original.replace(` ID="${f.assertionId}"`, ` ID="${samlId()}"`)}</ds:Object></ds:Signature>`)}`,
    );
    return signed.replace(ASSERTION, evil);
  },

  /** SAML-XSW-12: a second root element after the signed Response. */
  'response.signed.trailing-root': (signed: string) =>
    `${signed}<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`,

  /** SAML-SIG-05: the attacker re-signs a forged Assertion with their own key and embeds their certificate. */
  'response.assertion-resigned-by-attacker': async (f: ResponseFields, attacker: TestIdp) =>
    signElement(responseXml({ ...f, nameId: EVIL_NAMEID }), {
      id: f.assertionId,
      privateKey: attacker.privateKey,
      certificatePem: attacker.certificatePem,
    }),

  /** SAML-SIG-08: the IdP key, but rsa-sha1 and a sha1 digest. */
  'response.assertion-signed.rsa-sha1': (f: ResponseFields, idp: TestIdp) =>
    signElement(responseXml(f), {
      id: f.assertionId,
      privateKey: idp.privateKey,
      certificatePem: idp.certificatePem,
      signatureAlgorithm: RSA_SHA1,
      digestAlgorithm: SHA1,
    }),

  /** SAML-C14N-01: a comment splitting the NameID, signed by the real IdP (c14n drops the comment). */
  'response.nameid-comment.signed': (f: ResponseFields, idp: TestIdp) =>
    signElement(responseXml({ ...f, nameId: 'user@victim.example<!---->.attacker.example' }), {
      id: f.assertionId,
      privateKey: idp.privateKey,
      certificatePem: idp.certificatePem,
    }),

  /** SAML-MUL-01: two Assertions, each validly signed by the IdP. */
  'response.two-signed-assertions': (f: ResponseFields, idp: TestIdp) => {
    const second = samlId();
    const xml = responseXml({ ...f, assertionOverride: assertionXml(f) + assertionXml(f, second) });
    const once = signElement(xml, {
      id: f.assertionId,
      privateKey: idp.privateKey,
      certificatePem: idp.certificatePem,
    });
    return signElement(once, { id: second, privateKey: idp.privateKey, certificatePem: idp.certificatePem });
  },
  /** A look-alike: the Assertion's ds:Signature renamed ds:signature (a case-insensitive matcher would take it). */
  'response.signature-lowercase-name': (signed: string) =>
    signed.replace('<ds:Signature', '<ds:signature').replace('</ds:Signature>', '</ds:signature>'),

  /** A look-alike beside the valid signature: a copy named ds:SIGNATURE on the Response. */
  'response.signature-uppercase-name.beside-valid-signature': (signed: string) => {
    const copy = SIGNATURE.exec(signed)![0]
      .replace('<ds:Signature', '<ds:SIGNATURE')
      .replace(/<\/ds:Signature>$/, '</ds:SIGNATURE>');
    return signed.replace('<samlp:Status>', `${copy}<samlp:Status>`);
  },

  /** A look-alike namespace: a copy of the signature in the XML-DSig namespace spelt in capitals. */
  'response.signature-namespace-uppercase.beside-valid-signature': (signed: string) => {
    const copy = SIGNATURE.exec(signed)![0].replace(
      /<ds:Signature xmlns:ds="[^"]*"/,
      '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/XMLDSIG#"',
    );
    return signed.replace('<samlp:Status>', `${copy}<samlp:Status>`);
  },

  /** KeyInfo (unsigned) moved before SignedInfo: out of the XML-DSig schema's order. */
  'response.signature-keyinfo-before-signedinfo': (signed: string) => {
    const keyInfo = /<ds:KeyInfo>[\s\S]*?<\/ds:KeyInfo>/.exec(signed)![0];
    return signed.replace(keyInfo, '').replace('<ds:SignedInfo>', `${keyInfo}<ds:SignedInfo>`);
  },

  /**
   * KeyInfo moved first and carrying a CanonicalizationMethod in a foreign namespace: xml-crypto's own
   * `loadSignature` takes the first element of that local name anywhere under Signature.
   */
  'response.signature-keyinfo-first.foreign-canonicalization-method': (signed: string) => {
    const keyInfo = /<ds:KeyInfo>[\s\S]*?<\/ds:KeyInfo>/.exec(signed)![0];
    const lookAlike = keyInfo.replace(
      '<ds:KeyInfo>',
      '<ds:KeyInfo><x:CanonicalizationMethod xmlns:x="urn:evil" Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>',
    );
    return signed.replace(keyInfo, '').replace('<ds:SignedInfo>', `${lookAlike}<ds:SignedInfo>`);
  },

  /** An element of a foreign namespace after KeyInfo, inside the (unsigned part of the) Signature. */
  'response.signature-foreign-element-after-keyinfo': (signed: string) =>
    signed.replace('</ds:KeyInfo>', '</ds:KeyInfo><x:Note xmlns:x="urn:evil">hello</x:Note>'),

  /** A comment inside SignatureValue (xml-crypto's own loader keeps the text before it only). */
  'response.signature-value-comment-inside': (signed: string) =>
    signed.replace(/<ds:SignatureValue>([^<]{8})/, '<ds:SignatureValue>$1<!---->'),
} as const;
