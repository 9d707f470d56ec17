/**
 * Step 5, signatures (SAML-SIG-01..05, SAML-XSW-10, SAML-ISS-01).
 *
 * - Each ds:Signature (Response's, Assertion's) first passes `checkSignatureShape`.
 * - Keys come only from this IdP's metadata signing certificates; KeyInfo in the message is ignored
 *   (it only sharpens the error: a foreign certificate gives `SAML_SIGNATURE_UNTRUSTED_KEY`).
 * - Any signature present that does not verify rejects the whole message (`SAML_SIGNATURE_INVALID`).
 * - The per-IdP policy then demands assertion / response / both / either (`SAML_SIGNATURE_MISSING`,
 *   `SAML_ASSERTION_NOT_SIGNED`, `SAML_RESPONSE_NOT_SIGNED`). A Response without an Assertion must be signed.
 *   For an EncryptedAssertion, what the Assertion carries is checked after decryption (step `decrypt`).
 * - The output is the canonical bytes xml-crypto verified (`getSignedReferences()`), one per signature,
 *   with the element they were written from (`signed-element.ts`), from which the claims are read.
 */
import { X509Certificate } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { samlError } from '../errors.ts';
import { childrenNamed, descendantsNamed, optionalChild } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import { restrictAlgorithms } from '../xmldsig.ts';
import { checkSignatureOnDocument } from './check-on-document.ts';
import { need, type SignedContent, type VerifyContext } from './context.ts';
import { loadSignatureExact } from './load-signature.ts';
import { dereferenceWithoutXpath } from './reference-lookup.ts';
import { checkSignatureShape } from './signature-shape.ts';
import { keepSignedElements, signedElementOf } from './signed-element.ts';

export function verifySignatures(ctx: VerifyContext): void {
  const response = need(ctx.response, 'response');
  const doc = need(ctx.doc, 'doc');
  const certificates = ctx.env.metadata.signingCertificates;
  const allowList = ctx.env.idp.signatureAlgorithms;
  const onResponse = optionalChild(response, NS.dsig, 'Signature');
  const onAssertion = ctx.assertion ? optionalChild(ctx.assertion, NS.dsig, 'Signature') : undefined;
  if (!onResponse && !onAssertion && !ctx.encryptedAssertion)
    throw samlError('SAML_SIGNATURE_MISSING', { detail: 'no signature' });

  const weak = ctx.env.metadata.weakSigningCertificates ?? [];
  if (onResponse) ctx.signed.response = verifyOne(doc, onResponse, response, certificates, allowList, weak);
  if (onAssertion && ctx.assertion)
    ctx.signed.assertion = verifyOne(doc, onAssertion, ctx.assertion, certificates, allowList, weak);
  ctx.signed.count = (onResponse ? 1 : 0) + (onAssertion ? 1 : 0);

  const policy = ctx.env.idp.requiredSignatures;
  if (!ctx.assertion && !ctx.encryptedAssertion && !onResponse)
    throw samlError('SAML_RESPONSE_NOT_SIGNED', { detail: 'Response without Assertion is unsigned' });
  if ((policy === 'assertion' || policy === 'both') && ctx.assertion && !onAssertion) {
    throw samlError('SAML_ASSERTION_NOT_SIGNED', { detail: `policy ${policy}` });
  }
  if ((policy === 'response' || policy === 'both') && !onResponse) {
    throw samlError('SAML_RESPONSE_NOT_SIGNED', { detail: `policy ${policy}` });
  }
}

/**
 * Verifies one signature over `parent` with the metadata certificates and the IdP's algorithm allow-list;
 * returns what it verified (`SignedContent`). `doc` is the strict parse (`parseStrictXml`) the caller checked, and
 * `signature` and `parent` are its nodes: the references are dereferenced in it (`check-on-document.ts`).
 */
export function verifyOne(
  doc: Document,
  signature: Element,
  parent: Element,
  certificates: readonly string[],
  allowList: readonly string[],
  weak: readonly { pem: string; problem: string }[],
): SignedContent {
  if (signature.ownerDocument !== doc || parent.ownerDocument !== doc)
    throw samlError('SAML_INTERNAL_ERROR', { detail: 'signature checked outside the document it belongs to' });
  checkSignatureShape(signature, parent, allowList);
  let lastError: unknown;
  for (const publicCert of certificates) {
    const sig = new SignedXml({ publicCert });
    restrictAlgorithms(sig, allowList);
    dereferenceWithoutXpath(sig);
    keepSignedElements(sig);
    try {
      loadSignatureExact(sig, signature);
      if (checkSignatureOnDocument(sig, doc)) {
        const references = sig.getSignedReferences();
        if (references.length !== 1) throw new Error(`${references.length} signed references`);
        // a copy made from the strict parse only (a transform's octets re-parsed by the library are not)
        const root = signedElementOf(sig, references[0]!);
        return { xml: references[0]!, root: root?.ownerDocument === doc ? root : undefined };
      }
    } catch (error) {
      lastError = error;
    }
  }
  // Signed by a key the metadata lists but that is too weak for this IdP's kind: its own code.
  for (const { pem, problem } of weak) {
    const sig = new SignedXml({ publicCert: pem });
    restrictAlgorithms(sig, allowList);
    dereferenceWithoutXpath(sig);
    try {
      loadSignatureExact(sig, signature);
      if (checkSignatureOnDocument(sig, doc))
        throw samlError('SAML_KEY_TOO_WEAK', { detail: `${parent.localName} signed with a weak key: ${problem}` });
    } catch (error) {
      if (error instanceof Error && (error as { code?: string }).code === 'SAML_KEY_TOO_WEAK') throw error;
    }
  }
  const foreign = foreignKeyInfo(signature, certificates);
  throw samlError(foreign ? 'SAML_SIGNATURE_UNTRUSTED_KEY' : 'SAML_SIGNATURE_INVALID', {
    detail: `${parent.localName} signature does not verify with the metadata keys`,
    cause: lastError,
  });
}

/** True when the message's KeyInfo names a certificate that is not in the IdP's metadata. */
function foreignKeyInfo(signature: Element, certificates: readonly string[]): boolean {
  const keyInfo = childrenNamed(signature, NS.dsig, 'KeyInfo')[0];
  if (!keyInfo) return false;
  const trusted = certificates.map((pem) => new X509Certificate(pem).raw.toString('base64'));
  return descendantsNamed(keyInfo, NS.dsig, 'X509Certificate').some(
    (e) => !trusted.includes((e.textContent ?? '').replace(/\s+/g, '')),
  );
}
