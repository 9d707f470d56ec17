/**
 * Small, namespace-aware DOM readers. Elements are selected by namespace URI and local name only
 * (never by prefix or `local-name()` alone, SAML-C14N-06). Text is read only from elements whose
 * children are all text: a comment or element inside an identity value is refused (SAML-C14N-01).
 */
import type { Element, Node } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;
const COMMENT = 8;

/** Element children of `parent`, in document order. */
export function elementChildren(parent: Node): Element[] {
  const out: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === ELEMENT) out.push(child as Element);
  }
  return out;
}

/** True when `element` is `{ns}local`. */
export function isElement(node: Node | null | undefined, ns: string, local: string): node is Element {
  return (
    !!node &&
    node.nodeType === ELEMENT &&
    (node as Element).namespaceURI === ns &&
    (node as Element).localName === local
  );
}

/** Element children named `{ns}local`. */
export function childrenNamed(parent: Node, ns: string, local: string): Element[] {
  return elementChildren(parent).filter((child) => isElement(child, ns, local));
}

/** The single child `{ns}local`, or undefined; two of them is a schema violation. */
export function optionalChild(parent: Node, ns: string, local: string): Element | undefined {
  const found = childrenNamed(parent, ns, local);
  if (found.length > 1) throw samlError('SAML_SCHEMA_INVALID', { detail: `more than one ${local}` });
  return found[0];
}

/** The single child `{ns}local`; missing or repeated is a schema violation. */
export function requiredChild(parent: Node, ns: string, local: string): Element {
  const found = optionalChild(parent, ns, local);
  if (!found) throw samlError('SAML_SCHEMA_INVALID', { detail: `missing ${local}` });
  return found;
}

/** Every descendant element `{ns}local` (depth-first, document order), `root` excluded. */
export function descendantsNamed(root: Node, ns: string, local: string): Element[] {
  const out: Element[] = [];
  const walk = (node: Node): void => {
    for (const child of elementChildren(node)) {
      if (isElement(child, ns, local)) out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Every element in the subtree of `root`, `root` included. */
export function allElements(root: Element): Element[] {
  const out: Element[] = [root];
  for (let i = 0; i < out.length; i += 1) out.push(...elementChildren(out[i]!));
  return out;
}

/** True when a comment node sits anywhere inside `element`. */
export function containsComment(element: Node): boolean {
  for (let child = element.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === COMMENT || containsComment(child)) return true;
  }
  return false;
}

/**
 * The text of an element made only of text (and CDATA) nodes, all of them concatenated.
 * A comment inside throws `SAML_COMMENT_IN_IDENTITY`; a child element throws `SAML_SCHEMA_INVALID`.
 */
export function textOnly(element: Element): string {
  let text = '';
  for (let child = element.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === TEXT || child.nodeType === CDATA) text += child.nodeValue ?? '';
    else if (child.nodeType === COMMENT)
      throw samlError('SAML_COMMENT_IN_IDENTITY', { detail: `comment in ${element.localName}` });
    else throw samlError('SAML_SCHEMA_INVALID', { detail: `unexpected child in ${element.localName}` });
  }
  return text;
}

/** An attribute value, or undefined when absent. */
export function attr(element: Element, name: string): string | undefined {
  return element.hasAttribute(name) ? (element.getAttribute(name) ?? undefined) : undefined;
}
