/**
 * Verifies the gateway's AuthnRequest before the demo IdP shows a login form.
 *
 * In order:
 * 1. a SAMLRequest is present (`AUTHN_REQUEST_MISSING`); it decodes to well-formed XML without DOCTYPE;
 * 2. it is signed: an enveloped ds:Signature (HTTP-POST) or Signature + SigAlg parameters (HTTP-Redirect)
 *    (`AUTHN_REQUEST_UNSIGNED`);
 * 3. HTTP-POST only: exactly one ds:Signature in the document, a child of the root, with exactly one
 *    Reference to the root's (unique) ID (`AUTHN_REQUEST_WRAPPED`) — samlify ≤ 2.13.1 accepts a signature
 *    over any element (GHSA-63ch-w8pw-4mf2), so this guard comes first;
 * 4. samlify verifies the signature against the SP metadata's signing certificate
 *    (`AUTHN_REQUEST_SIGNATURE_INVALID`);
 * 5. Issuer = the SP's entityID (`AUTHN_REQUEST_WRONG_ISSUER`); Destination, when present, = our SSO URL and
 *    AssertionConsumerServiceURL, when present, is one of the SP's HTTP-POST ACS (`AUTHN_REQUEST_ACS_MISMATCH`).
 */
import { inflateRawSync } from 'node:zlib';
import { DOMParser, type Element } from '@xmldom/xmldom';
import type * as samlify from 'samlify';
import { ConformanceError } from '../errors.ts';
import type { SpPeer } from './sp-peer.ts';
import { assertWellFormedXml } from './xml-guard.ts';

const dsig = 'http://www.w3.org/2000/09/xmldsig#';
const saml = 'urn:oasis:names:tc:SAML:2.0:assertion';
const samlp = 'urn:oasis:names:tc:SAML:2.0:protocol';

/** An AuthnRequest as received over one binding. */
export type InboundAuthnRequest =
  | { binding: 'post'; samlRequest: string | null; relayState: string | null }
  | { binding: 'redirect'; rawQuery: string };

/** What the IdP keeps of a verified AuthnRequest. */
export interface VerifiedAuthnRequest {
  id: string;
  issuer: string;
  acsUrl: string;
  relayState: string | null;
  binding: 'post' | 'redirect';
  /** RequestedAuthnContext class refs, in order (may be empty). */
  requestedAuthnContext: string[];
  comparison: string | null;
}

/**
 * @param idp the samlify IdP entity.
 * @param ssoUrl our SSO URL (the expected Destination).
 * @param sp the SP peer.
 * @param inbound the message as received.
 * @throws ConformanceError with one of the codes listed above.
 * @example const request = await verifyAuthnRequest(idp.entity, idp.ssoUrl, sp, { binding: 'post', samlRequest, relayState });
 */
export async function verifyAuthnRequest(
  idp: samlify.IdentityProviderInstance,
  ssoUrl: string,
  sp: SpPeer,
  inbound: InboundAuthnRequest,
): Promise<VerifiedAuthnRequest> {
  const { xml, relayState, samlifyRequest } = decode(inbound);
  assertWellFormedXml(xml);
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement as Element;
  if (root.localName !== 'AuthnRequest' || root.namespaceURI !== samlp) {
    throw new ConformanceError('AUTHN_REQUEST_MISSING', 400, 'the SAML message is not an AuthnRequest');
  }
  if (inbound.binding === 'post') assertRootSignedOnce(root);

  try {
    await idp.parseLoginRequest(sp.entity, inbound.binding, samlifyRequest);
  } catch (cause) {
    throw new ConformanceError('AUTHN_REQUEST_SIGNATURE_INVALID', 400, 'the AuthnRequest signature does not verify', {
      cause,
    });
  }

  const issuer = childText(root, saml, 'Issuer');
  if (issuer !== sp.entityId)
    throw new ConformanceError('AUTHN_REQUEST_WRONG_ISSUER', 400, 'AuthnRequest Issuer is not the SP');
  const destination = root.getAttribute('Destination');
  if (destination !== null && destination !== ssoUrl) {
    throw new ConformanceError('AUTHN_REQUEST_ACS_MISMATCH', 400, 'AuthnRequest Destination is not this IdP');
  }
  const requestedAcs = root.getAttribute('AssertionConsumerServiceURL');
  if (requestedAcs !== null && !sp.acsUrls.includes(requestedAcs)) {
    throw new ConformanceError(
      'AUTHN_REQUEST_ACS_MISMATCH',
      400,
      'AssertionConsumerServiceURL is not in the SP metadata',
    );
  }
  const context = root.getElementsByTagNameNS(samlp, 'RequestedAuthnContext')[0];
  return {
    id: root.getAttribute('ID') as string,
    issuer,
    acsUrl: requestedAcs ?? (sp.acsUrls[0] as string),
    relayState,
    binding: inbound.binding,
    requestedAuthnContext: context
      ? Array.from(context.getElementsByTagNameNS(saml, 'AuthnContextClassRef')).map((el: Element) =>
          (el.textContent ?? '').trim(),
        )
      : [],
    comparison: context ? (context.getAttribute('Comparison') ?? 'exact') : null,
  };
}

/** The request shape samlify's parseLoginRequest reads. */
interface SamlifyHttpRequest {
  query?: Record<string, unknown>;
  body?: Record<string, unknown>;
  octetString?: string;
}

function decode(inbound: InboundAuthnRequest): {
  xml: string;
  relayState: string | null;
  samlifyRequest: SamlifyHttpRequest;
} {
  if (inbound.binding === 'post') {
    if (inbound.samlRequest === null || inbound.samlRequest === '') {
      throw new ConformanceError('AUTHN_REQUEST_MISSING', 400, 'no SAMLRequest');
    }
    const xml = Buffer.from(inbound.samlRequest, 'base64').toString('utf8');
    const body: Record<string, unknown> = { SAMLRequest: inbound.samlRequest };
    if (inbound.relayState !== null) body.RelayState = inbound.relayState;
    return { xml, relayState: inbound.relayState, samlifyRequest: { body } };
  }
  // HTTP-Redirect: the signed octet string is built from the parameters exactly as sent (saml-bindings §3.4.4.1).
  const raw = new Map<string, string>();
  for (const pair of inbound.rawQuery.split('&')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && !raw.has(pair.slice(0, eq))) raw.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const encoded = raw.get('SAMLRequest');
  if (encoded === undefined || encoded === '')
    throw new ConformanceError('AUTHN_REQUEST_MISSING', 400, 'no SAMLRequest');
  if (!raw.has('Signature') || !raw.has('SigAlg')) {
    throw new ConformanceError('AUTHN_REQUEST_UNSIGNED', 400, 'the AuthnRequest carries no signature');
  }
  const value = (name: string): string | null => {
    const v = raw.get(name);
    return v === undefined ? null : decodeURIComponent(v.replaceAll('+', ' '));
  };
  let xml: string;
  try {
    xml = inflateRawSync(Buffer.from(value('SAMLRequest') as string, 'base64'), {
      maxOutputLength: 256 * 1024,
    }).toString('utf8');
  } catch (cause) {
    throw new ConformanceError('XML_MALFORMED', 400, 'SAMLRequest does not inflate', { cause });
  }
  const octets = ['SAMLRequest', 'RelayState', 'SigAlg']
    .filter((name) => raw.has(name))
    .map((name) => `${name}=${raw.get(name) as string}`)
    .join('&');
  const query: Record<string, unknown> = {
    SAMLRequest: value('SAMLRequest'),
    SigAlg: value('SigAlg'),
    Signature: value('Signature'),
  };
  if (raw.has('RelayState')) query.RelayState = value('RelayState');
  return { xml, relayState: value('RelayState'), samlifyRequest: { query, octetString: octets } };
}

/** The only signature of the document is a child of the root and references the root alone. */
function assertRootSignedOnce(root: Element): void {
  const doc = root.ownerDocument;
  if (doc === null) throw new ConformanceError('XML_MALFORMED', 400, 'detached AuthnRequest');
  const signatures = doc.getElementsByTagNameNS(dsig, 'Signature');
  if (signatures.length === 0)
    throw new ConformanceError('AUTHN_REQUEST_UNSIGNED', 400, 'the AuthnRequest carries no signature');
  const signature = signatures[0] as Element;
  const references = signature.getElementsByTagNameNS(dsig, 'Reference');
  const id = root.getAttribute('ID') ?? '';
  const sameId = Array.from(doc.getElementsByTagName('*')).filter((el: Element) => el.getAttribute('ID') === id);
  const wrapped =
    signatures.length !== 1 ||
    signature.parentNode !== root ||
    references.length !== 1 ||
    id === '' ||
    references[0]!.getAttribute('URI') !== `#${id}` ||
    sameId.length !== 1;
  if (wrapped)
    throw new ConformanceError(
      'AUTHN_REQUEST_WRAPPED',
      400,
      'the AuthnRequest signature does not cover exactly the request',
    );
}

function childText(parent: Element, ns: string, localName: string): string {
  for (let node = parent.firstChild; node !== null; node = node.nextSibling) {
    const el = node as Element;
    if (el.nodeType === 1 && el.localName === localName && el.namespaceURI === ns) return (el.textContent ?? '').trim();
  }
  return '';
}
