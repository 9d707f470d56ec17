/**
 * xml-crypto's `checkSignature`, run on the document our strict parser made instead of a parse of its own
 * (issue #14: the library re-parses the whole message from its string at every signature check, with its
 * own lenient copy of @xmldom/xmldom, 0.8; the gateway had already parsed it strictly, with 0.9).
 *
 * The steps are the library's `checkSignature` (synchronous form), in its order, with its messages:
 * canonicalise the loaded signature's SignedInfo (`getCanonSignedInfoXml`), parse that canonical form
 * (with the library's parser, as it does), load the References from it (`loadReference`), check each
 * reference's digest (`validateReference`: the walk of `reference-lookup.ts`, then the library's
 * canonicalisation and digest), verify SignatureValue over the canonical SignedInfo with the key (the
 * library's `findSignatureAlgorithm`, our allow-listed classes), and only then publish the canonical bytes
 * of the references (`getSignedReferences()`). No canonicalisation, digest or signature rule is ours.
 *
 * Security argument. What changes is only which parse of the same bytes the references are dereferenced
 * in: the strict one (DTD refused, XML `Char` only, one root, bounded depth, every parser warning an error)
 * that the `structure` step has already checked (IDs unique across `ID`/`Id`/`id`, one Assertion, Signature
 * placement, no comment in identity elements). Before, the digest was computed over a second, lenient parse
 * by another xmldom version, so what the structure checks saw and what was digested were two parses that
 * could in principle differ; now they are the same nodes. The signature element is the caller's (already
 * so before: `loadSignature` was given it), so the library's `findLoadedSignature` answers it directly.
 *
 * Pinned to xml-crypto 6.3.2 with the other internals (`reference-lookup-is-pinned-to-its-library.test.ts`
 * fingerprints `checkSignature` too); `verifies-on-the-strict-parse.test.ts` shows no whole-document parse
 * is left in a signature check.
 */
import { createRequire } from 'node:module';
import type { Document, Element } from '@xmldom/xmldom';
import type { SignedXml } from 'xml-crypto';

const fromXmlCrypto = createRequire(createRequire(import.meta.url).resolve('xml-crypto'));
const { DOMParser } = fromXmlCrypto('@xmldom/xmldom') as {
  DOMParser: new () => { parseFromString(xml: string, type: string): { documentElement: Element | null } };
};
const utils = fromXmlCrypto('./utils.js') as {
  findChildren(node: Element, localName: string): Element[];
  isArrayHasLength(value: unknown): boolean;
};

/** The members of `SignedXml` `checkSignature` uses (private in its typings, plain fields in its code). */
interface Internals {
  signedReferences: string[];
  signedXml: string;
  references: { signedReference?: string }[];
  signatureAlgorithm?: string;
  signatureValue?: string;
  keyInfo?: unknown;
  publicCert?: unknown;
  privateKey?: unknown;
  getCanonSignedInfoXml(doc: Document): string;
  loadReference(reference: Element): void;
  validateReference(ref: object, doc: Document): string | undefined;
  findSignatureAlgorithm(name: string | undefined): {
    verifySignature(material: string, key: unknown, signatureValue: string | undefined): boolean;
  };
  getCertFromKeyInfo(keyInfo: unknown): unknown;
}

/**
 * The library's `checkSignature(xml)` with `doc` in place of its parse of `xml`: true when every reference
 * and the SignatureValue verify; false when a reference does not; throws as the library throws.
 *
 * @example
 * sig.loadSignature(signatureElement); if (checkSignatureOnDocument(sig, signatureElement.ownerDocument)) sig.getSignedReferences();
 */
export function checkSignatureOnDocument(sig: SignedXml, doc: Document): boolean {
  const self = sig as unknown as Internals;
  // Nothing this check has not authenticated may be visible, even if it throws partway.
  const earlierSignedReferences = self.signedReferences;
  self.signedReferences = [];
  self.signedXml = '';
  self.references = [];
  const unverifiedSignedInfoCanon = self.getCanonSignedInfoXml(doc);
  if (!unverifiedSignedInfoCanon) throw new Error('Canonical signed info cannot be empty');
  const unverifiedSignedInfoDoc = new DOMParser().parseFromString(
    unverifiedSignedInfoCanon,
    'text/xml',
  ).documentElement;
  if (!unverifiedSignedInfoDoc) throw new Error('Could not parse unverifiedSignedInfoCanon into a document');
  const references = utils.findChildren(unverifiedSignedInfoDoc, 'Reference');
  if (!utils.isArrayHasLength(references)) throw new Error('could not find any Reference elements');
  for (const reference of references) self.loadReference(reference);
  const canonReferences: string[] = [];
  for (const ref of self.references) {
    const canonXml = self.validateReference(ref, doc);
    if (canonXml === undefined) return false;
    canonReferences.push(canonXml);
  }
  const signer = self.findSignatureAlgorithm(self.signatureAlgorithm);
  const key = self.getCertFromKeyInfo(self.keyInfo) || self.publicCert || self.privateKey;
  if (key == null) throw new Error('KeyInfo or publicCert or privateKey is required to validate signature');
  if (signer.verifySignature(unverifiedSignedInfoCanon, key, self.signatureValue) !== true)
    throw new Error(`invalid signature: the signature value ${self.signatureValue} is incorrect`);
  self.signedReferences = [...earlierSignedReferences, ...canonReferences];
  self.references.forEach((ref, index) => {
    ref.signedReference = canonReferences[index];
  });
  return true;
}
