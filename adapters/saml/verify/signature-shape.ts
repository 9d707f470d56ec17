/**
 * The shape a ds:Signature must have before any transform runs or any key is used
 * (SAML-XSW-10, SAML-C14N-03/04, SAML-SIG-08/10, EIDAS-CRY-01).
 *
 * - Exactly one SignedInfo, one SignatureValue, one Reference.
 * - The XML-DSig schema's order and nothing else, every element in the XML-DSig namespace by its exact
 *   name: Signature = SignedInfo, SignatureValue, KeyInfo?; SignedInfo = CanonicalizationMethod,
 *   SignatureMethod, Reference; Reference = Transforms?, DigestMethod, DigestValue (`SAML_SIGNATURE_INVALID`).
 *   xml-crypto reads several of these by local name in any namespace, some as the first match anywhere
 *   under Signature: with this order, no look-alike (a foreign namespace, another case, a copy in KeyInfo)
 *   can come before or beside the element checked here.
 * - Reference/@URI = '#' + the parent element's ID (`SAML_SIGNATURE_WRAPPING` otherwise).
 * - CanonicalizationMethod exc-c14n without comments; Transforms ⊆ {enveloped-signature, exc-c14n},
 *   at most two, no other content than exc-c14n's InclusiveNamespaces (`SAML_TRANSFORM_NOT_ALLOWED`).
 * - SignatureMethod from the table of `xmldsig.ts` AND the IdP's own allow-list (the eIDAS profile:
 *   PSS and ECDSA only), DigestMethod SHA-256+ (`SAML_ALG_NOT_ALLOWED`).
 */
import type { Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';
import { attr, childrenNamed, elementChildren, isElement, requiredChild } from '../xml/dom.ts';
import { NS, TRANSFORM } from '../xml/namespaces.ts';
import { allowedSignatureMethod, isAllowedDigest } from '../xmldsig.ts';

const ALLOWED_TRANSFORMS = new Set<string>([TRANSFORM.enveloped, TRANSFORM.excC14n]);

type Slot = readonly [local: string, optional: boolean];
const SEQUENCES: Readonly<Record<'Signature' | 'SignedInfo' | 'Reference', readonly Slot[]>> = {
  Signature: [
    ['SignedInfo', false],
    ['SignatureValue', false],
    ['KeyInfo', true],
  ],
  SignedInfo: [
    ['CanonicalizationMethod', false],
    ['SignatureMethod', false],
    ['Reference', false],
  ],
  Reference: [
    ['Transforms', true],
    ['DigestMethod', false],
    ['DigestValue', false],
  ],
};

/** The element children of `parent` are exactly the sequence of its name, in the XML-DSig namespace. */
function inSchemaOrder(parent: Element, name: keyof typeof SEQUENCES): void {
  const children = elementChildren(parent);
  let i = 0;
  for (const [local, optional] of SEQUENCES[name]) {
    if (isElement(children[i], NS.dsig, local)) i += 1;
    else if (!optional) throw samlError('SAML_SIGNATURE_INVALID', { detail: `${name} without ${local} at ${i}` });
  }
  if (i !== children.length) {
    const extra = children[i]!;
    throw samlError('SAML_SIGNATURE_INVALID', {
      detail: `unexpected {${extra.namespaceURI ?? ''}}${extra.localName ?? ''} in ${name}`,
    });
  }
}

function exactlyOne(parent: Element, local: string): Element {
  const found = childrenNamed(parent, NS.dsig, local);
  if (found.length !== 1) throw samlError('SAML_SIGNATURE_INVALID', { detail: `${found.length} ${local} elements` });
  return found[0]!;
}

/** Checks `signature` (a child of `parent`) against the rules above. */
export function checkSignatureShape(signature: Element, parent: Element, allowList: readonly string[]): void {
  inSchemaOrder(signature, 'Signature');
  const signedInfo = exactlyOne(signature, 'SignedInfo');
  inSchemaOrder(signedInfo, 'SignedInfo');
  exactlyOne(signature, 'SignatureValue');
  const c14n = exactlyOne(signedInfo, 'CanonicalizationMethod');
  if (attr(c14n, 'Algorithm') !== TRANSFORM.excC14n || elementChildren(c14n).length > 0) {
    throw samlError('SAML_TRANSFORM_NOT_ALLOWED', {
      detail: `CanonicalizationMethod ${attr(c14n, 'Algorithm') ?? ''}`,
    });
  }
  const method = attr(exactlyOne(signedInfo, 'SignatureMethod'), 'Algorithm') ?? '';
  if (!allowedSignatureMethod(method, allowList))
    throw samlError('SAML_ALG_NOT_ALLOWED', { detail: `SignatureMethod ${method}` });

  const reference = exactlyOne(signedInfo, 'Reference');
  inSchemaOrder(reference, 'Reference');
  const id = attr(parent, 'ID');
  if (!id || attr(reference, 'URI') !== `#${id}`) {
    throw samlError('SAML_SIGNATURE_WRAPPING', {
      detail: `Reference URI ${attr(reference, 'URI') ?? ''} is not #${id ?? ''}`,
    });
  }
  const transforms = childrenNamed(reference, NS.dsig, 'Transforms');
  const list = transforms.length === 1 ? elementChildren(transforms[0]!) : [];
  if (transforms.length > 1 || list.length > 2)
    throw samlError('SAML_TRANSFORM_NOT_ALLOWED', { detail: 'too many transforms' });
  const seen = new Set<string>();
  for (const transform of list) {
    const algorithm = attr(transform, 'Algorithm') ?? '';
    if (!isElement(transform, NS.dsig, 'Transform') || !ALLOWED_TRANSFORMS.has(algorithm) || seen.has(algorithm)) {
      throw samlError('SAML_TRANSFORM_NOT_ALLOWED', { detail: `Transform ${algorithm}` });
    }
    const inner = elementChildren(transform);
    if (
      inner.some(
        (e) =>
          algorithm !== TRANSFORM.excC14n ||
          e.localName !== 'InclusiveNamespaces' ||
          e.namespaceURI !== TRANSFORM.excC14n,
      )
    ) {
      throw samlError('SAML_TRANSFORM_NOT_ALLOWED', { detail: 'content inside a Transform' });
    }
    seen.add(algorithm);
  }
  if (!seen.has(TRANSFORM.enveloped))
    throw samlError('SAML_TRANSFORM_NOT_ALLOWED', { detail: 'enveloped-signature transform missing' });
  const digest = attr(requiredChild(reference, NS.dsig, 'DigestMethod'), 'Algorithm') ?? '';
  if (!isAllowedDigest(digest)) throw samlError('SAML_ALG_NOT_ALLOWED', { detail: `DigestMethod ${digest}` });
}
