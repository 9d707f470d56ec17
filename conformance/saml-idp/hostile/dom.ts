/**
 * DOM helpers for crafting hostile SAML messages: parse a signed Response, find its parts by namespace,
 * clone and re-serialize. Used by the wrapping builders (`wrap.ts`) and the suite's checks.
 *
 * - Parsing is strict (@xmldom/xmldom, errors fatal): the input is always our own IdP's output.
 * - Elements are found by namespace URI + local name, never by prefix.
 */
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';

/** SAML and XML-DSig namespaces. */
export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

/**
 * Parses XML strictly.
 *
 * @example const doc = parseXml(xml); doc.documentElement
 */
export function parseXml(xml: string): Document {
  return new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') throw new Error(`${level}: ${message}`);
    },
  }).parseFromString(xml, 'text/xml');
}

/** Serializes a document or element. */
export function serialize(node: Document | Element): string {
  return new XMLSerializer().serializeToString(node);
}

/** The element children of `parent`. */
export function childElements(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

/** The first direct child with this namespace and local name. */
export function child(parent: Element, ns: string, localName: string): Element | undefined {
  return childElements(parent).find((el) => el.namespaceURI === ns && el.localName === localName);
}

/** Every descendant with this namespace and local name, in document order. */
export function descendants(root: Document | Element, ns: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(ns, localName));
}

/** The Response root and its (first) Assertion. Throws when the shape is not a Response with an Assertion. */
export function responseParts(doc: Document): { response: Element; assertion: Element } {
  const response = doc.documentElement;
  if (response === null || response.namespaceURI !== NS.protocol || response.localName !== 'Response')
    throw new Error('not a samlp:Response');
  const assertion = child(response, NS.assertion, 'Assertion');
  if (assertion === undefined) throw new Error('the Response carries no Assertion');
  return { response, assertion };
}

/** Removes the direct ds:Signature children of `el`; returns the first removed one. */
export function removeOwnSignature(el: Element): Element | undefined {
  let first: Element | undefined;
  for (const sig of childElements(el).filter((c) => c.namespaceURI === NS.dsig && c.localName === 'Signature')) {
    el.removeChild(sig);
    first ??= sig;
  }
  return first;
}

/**
 * An "evil" copy of an assertion or response: deep clone, own signatures removed, every NameID replaced by
 * `nameId`, and (for assertions) a new ID unless `keepId`.
 */
export function evilClone(el: Element, nameId: string, options: { keepId?: boolean; newId?: string } = {}): Element {
  const clone = el.cloneNode(true) as Element;
  removeOwnSignature(clone);
  for (const n of descendants(clone, NS.assertion, 'NameID')) {
    while (n.firstChild) n.removeChild(n.firstChild);
    n.appendChild(n.ownerDocument!.createTextNode(nameId));
  }
  if (!options.keepId) clone.setAttribute('ID', options.newId ?? `_evil${Math.random().toString(16).slice(2)}`);
  return clone;
}

/** Inserts `node` right after `ref` (or as last child when `ref` is the last). */
export function insertAfter(node: Element, ref: Element): void {
  const parent = ref.parentNode;
  if (parent === null) throw new Error('reference has no parent');
  if (ref.nextSibling === null) parent.appendChild(node);
  else parent.insertBefore(node, ref.nextSibling);
}
