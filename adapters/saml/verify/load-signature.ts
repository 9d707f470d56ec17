/**
 * xml-crypto's `loadSignature(node)`, done by reading the exact elements `checkSignatureShape` approved
 * (issue #14: the library finds them with three XPath searches of the whole Signature subtree, each
 * parsed and evaluated per call, and canonicalises and re-parses SignedInfo to pre-load References that
 * `checkSignatureOnDocument` discards and loads again).
 *
 * What the library sets, and where it is read from here:
 *
 * - `signatureNode`: the caller's `{dsig}Signature` element (the library: the same node).
 * - `canonicalizationAlgorithm`, `signatureAlgorithm`: the `Algorithm` of SignedInfo's
 *   `{dsig}CanonicalizationMethod` and `{dsig}SignatureMethod` children. The library takes the first
 *   element anywhere under Signature whose local name is `CanonicalizationMethod` / `SignatureMethod`, in
 *   any namespace: a look-alike in KeyInfo placed before SignedInfo (unsigned, so anyone can add it) would
 *   have chosen the algorithm of the check, not the element the shape check approved. The shape check
 *   now also refuses any other order or content (`signature-shape.ts`), so both readings agree.
 * - `signatureValue`: the text of the `{dsig}SignatureValue` child, line breaks removed as the library
 *   does; it must be text only (the library takes the first text node, so a comment would cut it).
 * - `keyInfo`: the `{dsig}KeyInfo` child or null (only read by `getCertFromKeyInfo`, a no-op unless set:
 *   keys come from metadata only).
 * - `references`: left empty; `checkSignatureOnDocument` loads them from the canonical SignedInfo, as the
 *   library's `checkSignature` does, before any use.
 * - `signatureXml` (the serialised Signature, read only by `getSignatureXml()`, a signing API): not set.
 *
 * Pinned to xml-crypto 6.3.2 with the other internals (`reference-lookup-is-pinned-to-its-library.test.ts`).
 */
import type { Element } from '@xmldom/xmldom';
import type { SignedXml } from 'xml-crypto';
import { attr, requiredChild, optionalChild } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';

const TEXT = 3;

/** The members of `SignedXml` `loadSignature` sets (private in its typings, plain fields in its code). */
interface Internals {
  signatureNode: Element | null;
  canonicalizationAlgorithm?: string;
  signatureAlgorithm?: string;
  signatureValue?: string;
  keyInfo: Element | null;
  references: unknown[];
}

/**
 * Loads `signature` (a `{dsig}Signature` that passed `checkSignatureShape`) into `sig`, as the library's
 * `loadSignature` would, from the exact elements. Throws (a plain Error, as the library) when one is missing.
 *
 * @example
 * checkSignatureShape(signature, parent, allowList); loadSignatureExact(sig, signature); checkSignatureOnDocument(sig, doc);
 */
export function loadSignatureExact(sig: SignedXml, signature: Element): void {
  if (signature.namespaceURI !== NS.dsig || signature.localName !== 'Signature')
    throw new Error('not a ds:Signature element');
  const self = sig as unknown as Internals;
  const signedInfo = requiredChild(signature, NS.dsig, 'SignedInfo');
  const canonicalization = attr(requiredChild(signedInfo, NS.dsig, 'CanonicalizationMethod'), 'Algorithm');
  if (canonicalization === undefined) throw new Error('could not find CanonicalizationMethod/@Algorithm element');
  const value = requiredChild(signature, NS.dsig, 'SignatureValue');
  let text = '';
  for (let child = value.firstChild; child; child = child.nextSibling) {
    if (child.nodeType !== TEXT) throw new Error('SignatureValue holds more than text');
    text += child.nodeValue ?? '';
  }
  self.signatureNode = signature;
  self.canonicalizationAlgorithm = canonicalization;
  self.signatureAlgorithm = attr(requiredChild(signedInfo, NS.dsig, 'SignatureMethod'), 'Algorithm');
  self.signatureValue = text.replace(/\r?\n/g, '');
  self.keyInfo = optionalChild(signature, NS.dsig, 'KeyInfo') ?? null;
  self.references = [];
}
