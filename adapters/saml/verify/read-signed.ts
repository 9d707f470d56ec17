/**
 * Step 6, read claims only from the signed bytes (SAML-XSW-13, SAML-C14N-01; node-saml CVE-2025-54369).
 *
 * - NameID, attributes, conditions and confirmations are read from what xml-crypto verified, never from
 *   the received DOM: the element its canonical bytes were written from (`signed-element.ts`, where the
 *   argument that this is reading the signed bytes is written), or, when the library's transforms did not
 *   end on one, a strict parse of those bytes.
 * - Without an Assertion signature, the Assertion is read from inside the signed Response bytes, or, when
 *   it came encrypted, from what step `decrypt` decrypted out of the signed Response bytes.
 * - The signed elements must carry the IDs the received DOM showed, and the signed Issuer must equal
 *   the one keys were chosen for (`SAML_ISSUER_INVALID`).
 * - Response-level values come from the signed Response when there is one; otherwise they are kept
 *   but marked unsigned (only ever used to refuse, never to accept).
 */
import type { Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';
import { requireXsId } from '../xml/xs-id.ts';
import { attr, childrenNamed, elementChildren, isElement, optionalChild, requiredChild } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import { parseStrictXml } from '../xml/parse.ts';
import { need, type ResponseEnvelope, type SignedContent, type VerifyContext } from './context.ts';
import { issuerText } from './issuer.ts';
import { readAssertion } from './read-assertion.ts';

export function readSignedClaims(ctx: VerifyContext): void {
  const received = need(ctx.response, 'response');
  const issuer = need(ctx.issuer, 'issuer');
  const signedResponse = ctx.signed.response
    ? signedRoot(ctx.signed.response, NS.protocol, 'Response', attr(received, 'ID'))
    : undefined;
  ctx.envelope = envelopeOf(signedResponse ?? received, signedResponse !== undefined);
  if (ctx.envelope.issuer !== undefined && ctx.envelope.issuer !== issuer) {
    throw samlError('SAML_ISSUER_INVALID', { detail: 'signed Response Issuer differs' });
  }
  if (!ctx.assertion) return;
  const assertionId = attr(ctx.assertion, 'ID');
  const signedAssertion = ctx.signed.assertion
    ? signedRoot(ctx.signed.assertion, NS.assertion, 'Assertion', assertionId)
    : ctx.decrypted
      ? decryptedUnderSignedResponse(ctx.assertion, signedResponse)
      : assertionInside(need(signedResponse, 'signed response'), assertionId);
  const claims = readAssertion(signedAssertion);
  if (claims.issuer !== issuer) throw samlError('SAML_ISSUER_INVALID', { detail: 'signed Assertion Issuer differs' });
  ctx.claims = claims;
}

function signedRoot(signed: SignedContent, ns: string, local: string, expectedId: string | undefined): Element {
  const root = signed.root ?? parseStrictXml(signed.xml).documentElement!;
  if (!isElement(root, ns, local) || !expectedId || attr(root, 'ID') !== expectedId) {
    throw samlError('SAML_SIGNATURE_WRAPPING', { detail: `signed bytes are not the ${local} ${expectedId ?? ''}` });
  }
  return root;
}

function assertionInside(response: Element, expectedId: string | undefined): Element {
  const found = childrenNamed(response, NS.assertion, 'Assertion');
  if (found.length !== 1 || attr(found[0]!, 'ID') !== expectedId) {
    throw samlError('SAML_SIGNATURE_WRAPPING', { detail: 'signed Response does not hold the received Assertion' });
  }
  return found[0]!;
}

function decryptedUnderSignedResponse(assertion: Element, signedResponse: Element | undefined): Element {
  if (!signedResponse)
    throw samlError('SAML_SIGNATURE_MISSING', { detail: 'decrypted Assertion covered by no signature' });
  return assertion;
}

function envelopeOf(response: Element, signed: boolean): ResponseEnvelope {
  const issuerElement = optionalChild(response, NS.assertion, 'Issuer');
  const status = requiredChild(response, NS.protocol, 'Status');
  const statusCodes: string[] = [];
  for (
    let code: Element | undefined = requiredChild(status, NS.protocol, 'StatusCode');
    code;
    code = optionalChild(code, NS.protocol, 'StatusCode')
  ) {
    statusCodes.push(attr(code, 'Value') ?? '');
  }
  const id = attr(response, 'ID');
  const issueInstant = attr(response, 'IssueInstant');
  if (!id || !issueInstant || attr(response, 'Version') !== '2.0') {
    throw samlError('SAML_SCHEMA_INVALID', { detail: 'Response ID, IssueInstant or Version missing' });
  }
  requireXsId(id, 'Response ID');
  if (elementChildren(status).length === 0) throw samlError('SAML_SCHEMA_INVALID', { detail: 'empty Status' });
  return {
    signed,
    id,
    issueInstant,
    issuer: issuerElement ? issuerText(issuerElement) : undefined,
    destination: attr(response, 'Destination'),
    inResponseTo: attr(response, 'InResponseTo'),
    statusCodes,
  };
}
