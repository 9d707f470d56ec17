/**
 * xml-crypto's `canonicalize`, with the comments of a same-document reference removed by a walk of the
 * copy instead of the XPath `.//comment()` (issue #14: that search, parsed and evaluated over every node
 * of the referenced Assertion or Response at each check, was the largest XPath cost left in a login).
 *
 * Everything else is the library's method as it reads in xml-crypto 6.3.2, in its order: a deep copy
 * of the referenced element without the enveloped Signature (the claims are read from that copy:
 * `signed-element.ts`), then each transform (octets parsed again by the library's `parseTransformInput`),
 * and a final inclusive c14n when a node-set is left.
 *
 * The copy: the library copies the whole element, Signature included, and its enveloped-signature
 * transform then removes the Signature from the copy. When that transform is the first (the profile's
 * order, `[enveloped, exc-c14n]`), the copy is made without the Signature in the first place (`copyOf`):
 * the same node-set, for about a third less copying (the Signature, its certificate included, is a large
 * part of a signed Assertion). Any other order takes the library's way.
 *
 * Removing a comment: `.//comment()` selects every comment node that descends from the copy; the walk
 * visits every child list of the copy and removes each node of type 8 (comments cannot hold children, so
 * nothing under one is missed). `canonicalize-without-xpath.test.ts` compares the output with the
 * library's method on documents full of comments, and the fingerprint test pins `canonicalize`.
 */
import { createRequire } from 'node:module';
import type { Node } from '@xmldom/xmldom';
import type { SignedXml } from 'xml-crypto';

const fromXmlCrypto = createRequire(createRequire(import.meta.url).resolve('xml-crypto'));
const { isNodeLike } = fromXmlCrypto('@xmldom/is-dom-node') as { isNodeLike(value: unknown): value is Node };
const { SignedXml: Library } = fromXmlCrypto('./signed-xml.js') as { SignedXml: { defaultNsForPrefix: object } };

const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const INCLUSIVE_C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const COMMENT = 8;

interface Options {
  defaultNsForPrefix?: object;
  signatureNode?: Node | null;
  ancestorNamespaces?: unknown[];
  defaultNs?: string;
}

/** The members of `SignedXml` `canonicalize` uses (private in its typings, plain methods in its code). */
interface Internals {
  signatureNode: Node | null;
  canonicalize(transforms: string[], node: Node, options: Options, flags: { discardComments: boolean }): string;
  findLoadedSignature(node: Node): Node | null | undefined;
  parseTransformInput(octets: string, transformName: string): Node;
  findCanonicalizationAlgorithm(name: string): { process(node: Node, options: Options): Node | string };
}

/** Removes every comment node under `root` (what `.//comment()` selects), in place. */
export function removeComments(root: Node): void {
  for (let child = root.firstChild; child;) {
    const next = child.nextSibling;
    if (child.nodeType === COMMENT) root.removeChild(child);
    else removeComments(child);
    child = next;
  }
}

/**
 * The library's deep copy of `node`, the loaded Signature then located in the copy (by its path) for the
 * enveloped-signature transform to remove; or, when that transform comes first and the Signature is under
 * `node`, a copy made without it: the Signature is taken out of the received document, `node` copied, and
 * the Signature put back at its place before anything else runs (synchronously, in `finally`). The copy is
 * the same node-set either way, never shares a node with the received document, and the enveloped transform
 * then has nothing to remove (`options.signatureNode`, the received one, is not in the copy).
 */
function copyOf(self: Internals, transforms: string[], node: Node, options: Options): Node {
  if (!transforms.includes(ENVELOPED)) return node.cloneNode(true);
  const signature = self.findLoadedSignature(node);
  if (transforms[0] === ENVELOPED && signature && signature !== node && isUnder(signature, node)) {
    const parent = signature.parentNode!;
    const next = signature.nextSibling;
    parent.removeChild(signature);
    try {
      return node.cloneNode(true);
    } finally {
      parent.insertBefore(signature, next);
    }
  }
  // the library's way, unchanged
  const canonXml = node.cloneNode(true);
  const signaturePath: number[] = [];
  let signatureAncestor = signature;
  while (signatureAncestor?.parentNode && signatureAncestor !== node) {
    signaturePath.push(Array.from(signatureAncestor.parentNode.childNodes).indexOf(signatureAncestor as never));
    signatureAncestor = signatureAncestor.parentNode;
  }
  if (signatureAncestor === node) {
    options.signatureNode = signaturePath
      .reverse()
      .reduce<Node>((clonedNode, index) => clonedNode.childNodes[index] as Node, canonXml);
  }
  return canonXml;
}

function isUnder(node: Node, ancestor: Node): boolean {
  for (let parent = node.parentNode; parent; parent = parent.parentNode) if (parent === ancestor) return true;
  return false;
}

/**
 * Installs the method on `sig` (see the file comment).
 *
 * @example
 * const sig = new SignedXml({ publicCert }); canonicalizeWithoutXpath(sig);
 */
export function canonicalizeWithoutXpath(sig: SignedXml): void {
  const self = sig as unknown as Internals;
  self.canonicalize = function canonicalize(this: Internals, transforms, node, options, { discardComments }) {
    options.defaultNsForPrefix = options.defaultNsForPrefix ?? Library.defaultNsForPrefix;
    options.signatureNode = this.signatureNode;
    const canonXml = copyOf(this, transforms, node, options);
    if (discardComments) removeComments(canonXml);
    let transformedXml: Node | string = canonXml;
    let transformOptions = options;
    for (const transformName of transforms) {
      if (!isNodeLike(transformedXml)) {
        transformedXml = this.parseTransformInput(transformedXml, transformName);
        transformOptions = {
          ...options,
          ancestorNamespaces: [],
          defaultNs: '',
          signatureNode: this.findLoadedSignature(transformedXml) ?? options.signatureNode,
        };
      }
      transformedXml = this.findCanonicalizationAlgorithm(transformName).process(transformedXml, transformOptions);
    }
    if (isNodeLike(transformedXml))
      transformedXml = this.findCanonicalizationAlgorithm(INCLUSIVE_C14N).process(transformedXml, transformOptions);
    return transformedXml.toString();
  };
}
