/**
 * The element a verified reference's canonical bytes were written from, kept so that the claims are read
 * from it instead of a strict re-parse of those bytes (issue #14: that parse was a third of the XML work of
 * a login).
 *
 * Installed on one `SignedXml` instance after `dereferenceWithoutXpath` (`verifyOne` only), it wraps:
 *
 * - the algorithm objects `findCanonicalizationAlgorithm` returns: their `process` is the library's,
 *   called unchanged; the wrapper records its input when its output is octets (the last canonicalisation
 *   of a reference, which writes the digested bytes);
 * - `validateReference`: when it returns canonical bytes (the digest matched), the element recorded during
 *   that call is kept, only if the recorded octets are exactly the bytes returned.
 *
 * `signedElementOf(sig, bytes)` answers it once `checkSignature` has succeeded and published `bytes` in
 * `getSignedReferences()` (the caller asks only then); `verifyOne` uses it only when it is a copy made
 * from the strict parse (its `ownerDocument`), else the bytes are parsed strictly as before. Nothing of the check itself changes: no
 * canonicalisation, digest or signature step is ours.
 *
 * Security argument (reading the claims from this element is reading the signed bytes):
 *
 * - The element is not looked up again, by ID or otherwise: it is the very node-set the library
 *   serialised into the digested bytes, after every transform (its `canonicalize` works on a deep clone of
 *   the referenced element, the enveloped Signature removed, comments discarded). There is nothing for a
 *   wrapping attack to redirect, and nothing in the received message is read through it.
 * - Canonical XML writes each element and attribute with the namespace its node carries and every
 *   attribute value and text with escapes a parser reverses; the node came from the strict parser (no DTD,
 *   no entity, XML characters only, namespaces as declared), so a strict parse of the bytes gives back the
 *   same names, namespace URIs, attribute values and character data (a CDATA section comes back as text;
 *   `textOnly` reads both alike). `read-signed.ts` keeps its checks (root name, namespace, ID, Issuer).
 * - `parses-a-response-once.test.ts` compares the claims read this way with those of a strict parse of the
 *   bytes, for an Assertion, a Response and a doubly signed message; the XSW, comment and wrapping suites
 *   of `test/adapters/saml/` pass unchanged.
 */
import type { Element, Node } from '@xmldom/xmldom';
import type { SignedXml } from 'xml-crypto';

const ELEMENT = 1;

interface Transform {
  process(node: Node, options: object): Node | string;
}

/** The members of `SignedXml` this wraps (private in its typings, plain methods in its code). */
interface Internals {
  findCanonicalizationAlgorithm(name: string): Transform;
  validateReference(ref: object, doc: Node): string | undefined;
}

const signedElements = new WeakMap<SignedXml, Map<string, Element>>();

/**
 * Records on `sig` the element each verified reference's bytes were written from (see the file comment).
 *
 * @example
 * dereferenceWithoutXpath(sig); keepSignedElements(sig); sig.loadSignature(node); if (check) signedElementOf(sig, bytes);
 */
export function keepSignedElements(sig: SignedXml): void {
  const self = sig as unknown as Internals;
  const kept = new Map<string, Element>();
  signedElements.set(sig, kept);
  let written: { from: Node; octets: string } | undefined;
  const findCanonicalization = self.findCanonicalizationAlgorithm;
  self.findCanonicalizationAlgorithm = function findCanonicalizationAlgorithm(this: Internals, name) {
    const algorithm = findCanonicalization.call(this, name);
    const recording = Object.create(algorithm) as Transform;
    recording.process = (node, options) => {
      const out = algorithm.process(node, options);
      written = typeof out === 'string' ? { from: node, octets: out } : undefined;
      return out;
    };
    return recording;
  };
  const validateReference = self.validateReference;
  self.validateReference = function keepingValidateReference(this: Internals, ref, doc) {
    written = undefined;
    const bytes = validateReference.call(this, ref, doc);
    const last = written as { from: Node; octets: string } | undefined;
    written = undefined;
    if (bytes !== undefined && last?.octets === bytes && last.from.nodeType === ELEMENT)
      kept.set(bytes, last.from as Element);
    return bytes;
  };
}

/** The element `bytes` were written from, when `sig` verified them; undefined otherwise. */
export function signedElementOf(sig: SignedXml, bytes: string): Element | undefined {
  return signedElements.get(sig)?.get(bytes);
}
