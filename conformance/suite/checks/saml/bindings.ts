/**
 * Bindings of the ACS (SAML 2.0 Profiles §4.1.4.5, Bindings §3.4; security-conformance.md HTTP-04,
 * SAML-SIG-11): a Response carrying an assertion travels by HTTP-POST only. The suite sends the IdP's
 * Response over the HTTP-Redirect binding (GET, DEFLATE, query signature) instead:
 *
 * - HTTP-04: the honest Response by GET must yield no code (an ACS that is POST-only refuses it outright);
 * - SAML-SIG-11: a query signed by the genuine IdP key whose SAMLResponse was then swapped for a forged one
 *   (NameID changed, Assertion signature removed) must yield no code — whether the ACS refuses GET or
 *   verifies the query signature.
 */
import { createSign } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { evilNameId } from '../../../saml-idp/hostile/wrap.ts';
import { parseXml, removeOwnSignature, responseParts, serialize } from '../../../saml-idp/hostile/dom.ts';
import type { Browser, Landing } from '../../browser/browser.ts';
import type { Form } from '../../browser/forms.ts';
import type { SuiteContext } from '../../context.ts';
import type { CheckDefinition } from '../../types.ts';
import { refusal } from './refusal.ts';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const encode = (xml: string): string => deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64');

function forged(xml: string): string {
  const doc = parseXml(xml);
  const { response, assertion } = responseParts(doc);
  removeOwnSignature(assertion);
  removeOwnSignature(response);
  return serialize(doc).replace(/(<saml:NameID[^>]*>)[^<]*(<\/saml:NameID>)/, `$1${evilNameId}$2`);
}

/** Sends the form's Response as an HTTP-Redirect GET; `tamper` signs the honest query then swaps the Response. */
function redirectBinding(ctx: SuiteContext, tamper: boolean) {
  return (form: Form, browser: Browser, base: URL): Promise<Landing> => {
    const xml = Buffer.from(form.fields.SAMLResponse ?? '', 'base64').toString('utf8');
    const relay = form.fields.RelayState;
    const query = (response: string): string =>
      `SAMLResponse=${encodeURIComponent(response)}${relay === undefined ? '' : `&RelayState=${encodeURIComponent(relay)}`}`;
    let search = query(encode(xml));
    if (tamper) {
      const signed = `${search}&SigAlg=${encodeURIComponent(RSA_SHA256)}`;
      const signature = createSign('sha256')
        .update(signed)
        .sign(ctx.idp?.keys.privateKeyPem ?? '')
        .toString('base64');
      search = `${query(encode(forged(xml)))}&SigAlg=${encodeURIComponent(RSA_SHA256)}&Signature=${encodeURIComponent(signature)}`;
    }
    const url = new URL(form.action, base);
    url.search = search;
    const redirectUri = ctx.rp.client.redirectUri;
    return browser.follow(url, {}, (u) => u.href.startsWith(redirectUri));
  };
}

/** The binding checks. */
export const bindingChecks: readonly CheckDefinition[] = [
  refusal({
    id: 'HTTP-04',
    title: 'The ACS does not take a Response over the HTTP-Redirect binding (GET)',
    source:
      'SAML 2.0 Profiles §4.1.4.5 (Response by HTTP-POST or Artifact only); security-conformance.md §3.1 step 1 (HTTP-04)',
    sent: "the IdP's honest Response, DEFLATE-encoded in the query of a GET to the ACS (with its RelayState)",
    reference: 'HTTP 404/405 (POST only)',
    input: (ctx) => ({ post: redirectBinding(ctx, false) }),
  }),
  refusal({
    id: 'SAML-SIG-11',
    title: 'A Redirect-binding query whose SAMLResponse was swapped after signing yields no code',
    source: 'SAML 2.0 Bindings §3.4.4.1 (query signature); security-conformance.md SAML-SIG-11',
    sent: 'GET to the ACS: query signed (rsa-sha256) by the genuine IdP key over the honest Response, then SAMLResponse replaced by a forged one (NameID changed, Assertion unsigned)',
    reference: 'HTTP 404/405 (POST only), or SAML_SIGNATURE_INVALID',
    input: (ctx) => ({ post: redirectBinding(ctx, true) }),
  }),
];
