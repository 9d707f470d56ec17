/**
 * xml-crypto's `canonicalize`, with the comments of a same-document reference removed by a walk of the
 * copy instead of the XPath `.//comment()` (issue #14: that search, parsed and evaluated over every node
 * of the referenced Assertion or Response at each check, was the largest XPath cost left in a login).
 *
 * Everything else is the library's method as it reads in xml-crypto 6.3.2, in its order: the deep copy
 * of the referenced element (the enveloped Signature is removed from the copy, never from the received
 * document, and the claims are read from that copy: `signed-element.ts`), the path from the element to
 * the loaded Signature replayed in the copy, then each transform (octets parsed again by the library's
 * `parseTransformInput`), and a final inclusive c14n when a node-set is left.
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
    const canonXml = node.cloneNode(true); // deep copy: the received document is never changed
    if (transforms.includes(ENVELOPED)) {
      const signaturePath: number[] = [];
      let signatureAncestor = this.findLoadedSignature(node);
      while (signatureAncestor?.parentNode && signatureAncestor !== node) {
        signaturePath.push(Array.from(signatureAncestor.parentNode.childNodes).indexOf(signatureAncestor as never));
        signatureAncestor = signatureAncestor.parentNode;
      }
      if (signatureAncestor === node) {
        options.signatureNode = signaturePath
          .reverse()
          .reduce<Node>((clonedNode, index) => clonedNode.childNodes[index] as Node, canonXml);
      }
    }
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
