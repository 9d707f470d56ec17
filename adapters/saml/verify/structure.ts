/**
 * Step 3, structure (SAML-XSW-01..09, SAML-MUL-01, SAML-C14N-01, SAML-STA-01).
 *
 * - No ID value on two elements (any attribute named ID, Id or id, as xml-crypto resolves them).
 * - Every saml:Assertion and saml:EncryptedAssertion is a direct child of the Response; at most one of
 *   them in all (`SAML_MULTIPLE_ASSERTIONS`).
 * - An EncryptedAssertion only from an IdP whose policy allows encryption
 *   (`SAML_ENCRYPTED_ASSERTION_FORBIDDEN`).
 * - ds:Signature only as a direct child of the Response or of the Assertion, at most one per element,
 *   never containing ds:Object.
 * - No look-alike of ds:Signature: an element named Signature in another case, or in the XML-DSig
 *   namespace spelt in another case (`SAML_SIGNATURE_WRAPPING`). Every reader here and in xml-crypto's
 *   verification compares names exactly, but the `xpath` package compares QName tests case-insensitively
 *   on @xmldom/xmldom documents (it takes them for HTML), so such an element is refused rather than trusted
 *   to be ignored by every reader.
 * - No comment inside an identity element (NameID, AttributeValue, Issuer, Audience, AuthnContextClassRef).
 * - A Response without an Assertion must carry a non-Success status; unsigned, it is refused here.
 */
import type { Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';
import {
  allElements,
  childrenNamed,
  containsComment,
  descendantsNamed,
  elementChildren,
  isElement,
} from '../xml/dom.ts';
import { NS, STATUS_SUCCESS } from '../xml/namespaces.ts';
import { need, type VerifyContext } from './context.ts';

const ID_NAMES = new Set(['ID', 'Id', 'id']);
const IDENTITY: readonly [string, string][] = [
  [NS.assertion, 'NameID'],
  [NS.assertion, 'AttributeValue'],
  [NS.assertion, 'Issuer'],
  [NS.assertion, 'Audience'],
  [NS.assertion, 'AuthnContextClassRef'],
];

export function checkStructure(ctx: VerifyContext): void {
  const response = need(ctx.response, 'response');
  const elements = allElements(response);
  rejectDuplicateIds(elements);

  const assertions = descendantsNamed(response, NS.assertion, 'Assertion');
  const encrypted = descendantsNamed(response, NS.assertion, 'EncryptedAssertion');
  if ([...assertions, ...encrypted].some((a) => a.parentNode !== response)) {
    throw samlError('SAML_SIGNATURE_WRAPPING', { detail: 'Assertion outside the Response children' });
  }
  if (assertions.length + encrypted.length > 1) {
    throw samlError('SAML_MULTIPLE_ASSERTIONS', {
      detail: `${assertions.length} assertions, ${encrypted.length} encrypted`,
    });
  }
  if (encrypted.length > 0 && ctx.env.idp.encryptedAssertions === 'forbidden') {
    throw samlError('SAML_ENCRYPTED_ASSERTION_FORBIDDEN', {
      detail: `${ctx.env.idp.id} does not send encrypted assertions`,
    });
  }
  ctx.encryptedAssertion = encrypted[0];
  const assertion = assertions[0];
  checkSignaturePlacement(response, assertion);

  rejectCommentsInIdentity(response);
  if (!assertion && !ctx.encryptedAssertion) {
    const success = statusOf(response) === STATUS_SUCCESS;
    if (success) throw samlError('SAML_ASSERTION_MISSING', { detail: 'Success without an Assertion' });
    if (childrenNamed(response, NS.dsig, 'Signature').length === 0) {
      throw samlError('SAML_STATUS_NOT_SUCCESS', { detail: `unsigned status ${statusOf(response) ?? 'none'}` });
    }
  }
  ctx.assertion = assertion;
}

/** Refuses an ID/Id/id value carried twice (`seen` may hold IDs of an enclosing document). */
export function rejectDuplicateIds(elements: Element[], seen = new Set<string>()): void {
  for (const element of elements) {
    for (let i = 0; i < element.attributes.length; i += 1) {
      const attribute = element.attributes.item(i)!;
      if (!ID_NAMES.has(attribute.localName ?? attribute.name)) continue;
      if (seen.has(attribute.value)) throw samlError('SAML_DUPLICATE_ID', { detail: `ID ${attribute.value} repeated` });
      seen.add(attribute.value);
    }
  }
}

const DSIG_FOLDED = NS.dsig.toLowerCase();

/** ds:Signature only as a child of `response` or `assertion`, one each at most, never with ds:Object, no look-alike. */
export function checkSignaturePlacement(response: Element, assertion: Element | undefined): void {
  for (const element of allElements(response)) {
    const exact = element.localName === 'Signature' && element.namespaceURI === NS.dsig;
    if (
      !exact &&
      element.localName?.toLowerCase() === 'signature' &&
      element.namespaceURI?.toLowerCase() === DSIG_FOLDED
    ) {
      throw samlError('SAML_SIGNATURE_WRAPPING', {
        detail: `look-alike {${element.namespaceURI ?? ''}}${element.localName ?? ''}`,
      });
    }
  }
  const signatures = descendantsNamed(response, NS.dsig, 'Signature');
  for (const signature of signatures) {
    const parent = signature.parentNode;
    if (parent !== response && parent !== assertion) {
      throw samlError('SAML_SIGNATURE_WRAPPING', { detail: 'Signature outside Response/Assertion children' });
    }
    if (descendantsNamed(signature, NS.dsig, 'Object').length > 0) {
      throw samlError('SAML_SIGNATURE_WRAPPING', { detail: 'ds:Object inside a Signature' });
    }
  }
  for (const parent of [response, assertion]) {
    if (parent && childrenNamed(parent, NS.dsig, 'Signature').length > 1) {
      throw samlError('SAML_SIGNATURE_WRAPPING', { detail: `two Signatures on ${parent.localName}` });
    }
  }
}

/** No comment inside NameID, AttributeValue, Issuer, Audience or AuthnContextClassRef (SAML-C14N-01). */
export function rejectCommentsInIdentity(root: Element): void {
  for (const [ns, local] of IDENTITY) {
    if ([root, ...descendantsNamed(root, ns, local)].some((e) => isElement(e, ns, local) && containsComment(e))) {
      throw samlError('SAML_COMMENT_IN_IDENTITY', { detail: `comment inside ${local}` });
    }
  }
}

/** The top-level StatusCode value read from the received DOM (untrusted). */
export function statusOf(response: Element): string | undefined {
  const status = elementChildren(response).find((e) => isElement(e, NS.protocol, 'Status'));
  const code = status && elementChildren(status).find((e) => isElement(e, NS.protocol, 'StatusCode'));
  return code?.getAttribute('Value') ?? undefined;
}
