/**
 * xml-crypto's whole-document XPath searches of a signature check, answered by one walk of the DOM
 * instead (issue #14: they were a third of the CPU of a SAML signature check; the library's XPath engine
 * re-parses and re-evaluates `//*[...]` over every node and attribute for each of them).
 *
 * Installed on one `SignedXml` instance (`verifyOne` only; signing and other users of xml-crypto are
 * untouched), it replaces, with the same answers:
 *
 * - `validateReference` for a same-document reference `#id` (an empty URI, a URI with a quote or no URI go
 *   to the library's own method): the library selects `//*[@*[local-name(.)='<attr>']='<id>']` for each of
 *   its `idAttributes`, refuses more than one element in total (signature wrapping), then selects the same
 *   expression again to find the element's ancestor namespaces. Here: every element in document order, every
 *   attribute in its `attributes` (namespace declarations included, as the XPath attribute axis of `xpath`
 *   does), local name as `local-name()` computes it, value compared as a string. The digest, the
 *   canonicalization (`canonicalize`, the library's) and the refusals are the library's steps, in its order,
 *   with its messages.
 * - `getCanonSignedInfoXml`: the library takes the ancestor namespaces of the first element named
 *   `SignedInfo` in the document (`//*[local-name()='SignedInfo']`, whatever its namespace) to canonicalize
 *   the loaded signature's SignedInfo; here the same element by a walk, the rest the library's steps.
 * - `findLoadedSignature`: the library searches `.//*[local-name(.)='Signature' and
 *   namespace-uri(.)='http://www.w3.org/2000/09/xmldsig#']` for the copy of the loaded signature in its own
 *   parse of the document (matched by SignatureValue, refusing two matches); here the same elements by a walk.
 * - `canonicalize`: its `.//comment()` search, by a walk (`canonicalize.ts`).
 *
 * Pinned to xml-crypto 6.3.2 (`package.json`); `test/adapters/saml/dereferences-without-xpath.test.ts`
 * compares both answers with the library's XPath on hostile documents and checks that a signature check
 * evaluates none of these expressions any more.
 */
import { createRequire } from 'node:module';
import type { Document, Element, Node } from '@xmldom/xmldom';
import type { SignedXml } from 'xml-crypto';
import { canonicalizeWithoutXpath } from './canonicalize.ts';

const require = createRequire(import.meta.url);
const utils = require('xml-crypto/lib/utils.js') as {
  findAncestorNsForElement(element: Element): unknown[];
  findChildren(node: Node, localName: string): Element[];
  validateDigestValue(digest: string, expected: string): boolean;
};

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const INCLUSIVE_C14N = new Set([
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
]);
const ELEMENT = 1;

interface Reference {
  uri?: string;
  xpath?: string;
  transforms: string[];
  digestAlgorithm: string;
  digestValue: string;
  inclusiveNamespacesPrefixList: string[];
  ancestorNamespaces?: unknown[];
  validationError?: Error;
}

/** The members of `SignedXml` this replaces or calls (private in its typings, plain methods in its code). */
interface Internals {
  idAttributes: string[];
  signatureNode: Element | null;
  validateReference(ref: Reference, doc: Document): string | undefined;
  findLoadedSignature(node: Node): Element | null | undefined;
  canonicalizationAlgorithm?: string;
  getCanonSignedInfoXml(doc: Document): string;
  getCanonXml(transforms: string[], node: Node, options: object): string;
  canonicalize(transforms: string[], node: Node, options: object, flags: { discardComments: boolean }): string;
  findHashAlgorithm(name: string): { getHash(xml: string): string };
}

/** Every element of the document (or under `root`), `root` excluded, in document order. */
function elementsUnder(root: Node): Element[] {
  const out: Element[] = [];
  const walk = (node: Node): void => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType !== ELEMENT) continue;
      out.push(child as Element);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** XPath's `local-name()` of a node, as the `xpath` package computes it. */
function localNameOf(node: Node): string {
  const n = node as Node & { baseName?: string; target?: string };
  return n.localName || n.baseName || n.target || n.nodeName || '';
}

/** What `//*[@*[local-name(.)='<attr>']='<id>']` selects from `doc`. */
export function elementsWithId(doc: Node, attr: string, id: string): Element[] {
  return elementsUnder(doc).filter((element) => {
    const attributes = element.attributes;
    for (let i = 0; i < attributes.length; i += 1) {
      const a = attributes.item(i)!;
      if (localNameOf(a) === attr && (a.value || a.nodeValue) === id) return true;
    }
    return false;
  });
}

/** What `.//*[local-name(.)='Signature' and namespace-uri(.)='…xmldsig#']` selects from `doc`. */
export function signatureElementsUnder(doc: Node): Element[] {
  return elementsUnder(doc).filter((e) => localNameOf(e) === 'Signature' && (e.namespaceURI || '') === DSIG);
}

/** What `//*[local-name()='SignedInfo']` selects first from `doc` (any namespace), or undefined. */
export function firstSignedInfo(doc: Node): Element | undefined {
  return elementsUnder(doc).find((e) => localNameOf(e) === 'SignedInfo');
}

/**
 * Installs the walks on `sig` (see the file comment).
 *
 * @example
 * const sig = new SignedXml({ publicCert }); dereferenceWithoutXpath(sig); sig.loadSignature(node); sig.checkSignature(xml);
 */
export function dereferenceWithoutXpath(sig: SignedXml): void {
  const self = sig as unknown as Internals;
  canonicalizeWithoutXpath(sig);
  const libraryValidateReference = self.validateReference;
  self.validateReference = function validateReference(this: Internals, ref, doc) {
    const uri = ref.uri?.[0] === '#' ? ref.uri.substring(1) : ref.uri;
    if (uri === undefined || uri === '' || uri.includes("'")) return libraryValidateReference.call(this, ref, doc);
    let elem: Element | undefined;
    let count = 0;
    for (const attr of this.idAttributes) {
      const found = elementsWithId(doc, attr, uri);
      if (found.length === 0) continue;
      count += found.length;
      if (count > 1) {
        throw new Error(
          'Cannot validate a document which contains multiple elements with the ' +
            'same value for the ID / Id / Id attributes, in order to prevent ' +
            'signature wrapping attack.',
        );
      }
      elem = found[0];
      ref.xpath = `//*[@*[local-name(.)='${attr}']='${uri}']`;
    }
    if (!elem) {
      ref.validationError = new Error(
        `invalid signature: the signature references an element with uri ${ref.uri} but could not find such element in the xml`,
      );
      return undefined;
    }
    // getCanonReferenceXml: the ancestor namespaces of the one element `ref.xpath` selects
    if (Array.isArray(ref.transforms)) ref.ancestorNamespaces = utils.findAncestorNsForElement(elem);
    const options = {
      inclusiveNamespacesPrefixList: ref.inclusiveNamespacesPrefixList,
      ancestorNamespaces: ref.ancestorNamespaces,
    };
    // only a same-document URI dereferences without comments (the library's rule; a bare `id` is no such URI)
    const canonXml = this.canonicalize(ref.transforms, elem, options, { discardComments: ref.uri!.startsWith('#') });
    const digest = this.findHashAlgorithm(ref.digestAlgorithm).getHash(canonXml);
    if (!utils.validateDigestValue(digest, ref.digestValue)) {
      ref.validationError = new Error(
        `invalid signature: for uri ${ref.uri} calculated digest is ${digest} but the xml to validate supplies digest ${ref.digestValue}`,
      );
      return undefined;
    }
    return canonXml;
  };
  self.getCanonSignedInfoXml = function getCanonSignedInfoXml(this: Internals, doc) {
    if (this.signatureNode == null) throw new Error('No signature found.');
    if (typeof this.canonicalizationAlgorithm !== 'string')
      throw new Error('Missing canonicalizationAlgorithm when trying to get signed info for XML');
    const signedInfo = utils.findChildren(this.signatureNode, 'SignedInfo');
    if (signedInfo.length === 0) throw new Error('could not find SignedInfo element in the message');
    if (signedInfo.length > 1)
      throw new Error(
        'could not get canonicalized signed info for a signature that contains multiple SignedInfo nodes',
      );
    if (INCLUSIVE_C14N.has(this.canonicalizationAlgorithm) && (!doc || typeof doc !== 'object'))
      throw new Error('When canonicalization method is non-exclusive, whole xml dom must be provided as an argument');
    const first = firstSignedInfo(doc);
    const ancestorNamespaces = first ? utils.findAncestorNsForElement(first) : [];
    return this.getCanonXml([this.canonicalizationAlgorithm], signedInfo[0]!, { ancestorNamespaces });
  };
  self.findLoadedSignature = function findLoadedSignature(this: Internals, node) {
    const doc = node.ownerDocument ?? node;
    if (this.signatureNode == null || this.signatureNode.ownerDocument === doc) return this.signatureNode;
    const signatureValue = utils.findChildren(this.signatureNode, 'SignatureValue')[0]?.textContent;
    if (!signatureValue) return null;
    const matches = signatureElementsUnder(doc).filter(
      (signature) => utils.findChildren(signature, 'SignatureValue')[0]?.textContent === signatureValue,
    );
    if (matches.length > 1) {
      throw new Error(
        'Cannot validate a document which contains multiple Signature elements with the same SignatureValue, in order to prevent signature wrapping attack.',
      );
    }
    return matches[0] ?? null;
  };
}
