/**
 * The HTTP-Redirect binding for AuthnRequests, LogoutRequests and LogoutResponses (SAML Bindings §3.4),
 * signed in the HSM:
 *
 * - The AuthnRequest carries no enveloped signature (§3.4.4.1: it would be removed anyway).
 * - DEFLATE (RFC 1951, raw, no zlib header) → base64 → URL-encoding, in the `SAMLRequest` parameter.
 * - The signature covers the octet string `SAMLRequest=<v>&RelayState=<v>&SigAlg=<v>` (`SAMLResponse=` for a
 *   response; no RelayState when there is none), each value exactly as URL-encoded in the query string, in that order; `SigAlg` is the XML-DSig SignatureMethod URI of
 *   the signer's `hsm/` registry row (no default, no SHA-1). The value goes in `Signature` (base64, then
 *   URL-encoded); for ECDSA it is r‖s, as in XML-DSig.
 * - An endpoint URL that already has a query string keeps it: our parameters are appended after `&`.
 * URL-encoding is `encodeURIComponent` (RFC 3986 unreserved characters stay), which is what the
 * verifier reproduces when it rebuilds the octet string from decoded values.
 */
import { deflateRawSync } from 'node:zlib';
import { xmlDsigAlgorithm } from '../../hsm/algorithms.ts';
import type { Signer } from '../../hsm/signer.ts';
import { samlError } from './errors.ts';

/**
 * The signed query string of an AuthnRequest (without `?`), and the complete redirect URL.
 *
 * @example
 * const { url } = await redirectBindingUrl(authnRequestXml, relayState, metadata.sso.redirect, keys.activeSigner('saml'));
 */
export async function redirectBindingUrl(
  xml: string,
  relayState: string,
  endpoint: string,
  signer: Signer,
): Promise<{ url: string; query: string }> {
  return signedRedirectUrl('SAMLRequest', xml, relayState, endpoint, signer);
}

/**
 * The same for any protocol message: `SAMLRequest` or `SAMLResponse`, RelayState left out when undefined.
 *
 * @example
 * const { url } = await signedRedirectUrl('SAMLResponse', logoutResponseXml, undefined, slo.responseLocation, signer);
 */
export async function signedRedirectUrl(
  param: 'SAMLRequest' | 'SAMLResponse',
  xml: string,
  relayState: string | undefined,
  endpoint: string,
  signer: Signer,
): Promise<{ url: string; query: string }> {
  const sigAlg = xmlDsigAlgorithm(signer.alg).xmlDsig.signatureMethod;
  const signed =
    `${param}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}` +
    (relayState === undefined ? '' : `&RelayState=${encodeURIComponent(relayState)}`) +
    `&SigAlg=${encodeURIComponent(sigAlg)}`;
  let signature: Uint8Array;
  try {
    signature = await signer.sign(Buffer.from(signed, 'utf8'));
  } catch (cause) {
    throw samlError('SAML_SIGNING_FAILED', { detail: `kid ${signer.kid} (HTTP-Redirect)`, cause });
  }
  const query = `${signed}&Signature=${encodeURIComponent(Buffer.from(signature).toString('base64'))}`;
  const base = new URL(endpoint);
  base.hash = '';
  const url = `${base.toString()}${base.search ? '&' : '?'}${query}`;
  return { url, query };
}
