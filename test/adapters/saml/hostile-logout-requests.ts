/**
 * Each hostile IdP LogoutRequest, named after its shape, with the code it must get, and how a refusal answered
 * to the IdP must look (a LogoutResponse signed in the HSM, Requester + the second-level status).
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { ExecutionContext } from 'ava';
import { SignedXml } from 'xml-crypto';
import { AnsweredLogoutRefusal, type AdapterError, type UpstreamLogout } from '../../../adapters/contract.ts';
import type { AdapterErrorCode } from '../../../adapters/errors/registry.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import {
  logoutRequestXml,
  postMessage,
  redirectMessage,
  signedBy,
  type LogoutRequestFields,
} from '../../helpers/saml/logout-messages.ts';
import { RSA_SHA1, type TestIdp } from '../../helpers/saml/test-idp.ts';
import { IDP_SLO, keys } from './single-logout-bed.ts';

/** Each hostile IdP LogoutRequest, named after its shape, and the code it must get. */
const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
type Shape = (idp: TestIdp, f: LogoutRequestFields) => Promise<Parameters<UpstreamLogout['answerLogout']>[0]>;
export const post = (idp: TestIdp, f: LogoutRequestFields) =>
  postMessage('SAMLRequest', signedBy(logoutRequestXml(f), f.id, idp));
export const SHAPES: ReadonlyArray<[shape: string, code: AdapterErrorCode, build: Shape]> = [
  [
    'logout-request.unsigned',
    'SAML_LOGOUT_SIGNATURE_MISSING',
    async (_i, f) => postMessage('SAMLRequest', logoutRequestXml(f)),
  ],
  [
    'logout-request.signed-by-a-key-not-in-metadata',
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (_i, f) => {
      const certificatePem = await selfSignedForeign();
      return postMessage('SAMLRequest', signedBy(logoutRequestXml(f), f.id, { privateKey: foreign, certificatePem }));
    },
  ],
  [
    'logout-request.nameid-changed-after-signing',
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (idp, f) =>
      postMessage('SAMLRequest', signedBy(logoutRequestXml(f), f.id, idp).replace('>ada-4711<', '>someone-else<')),
  ],
  [
    'logout-request.rsa-sha1',
    'SAML_ALG_NOT_ALLOWED',
    async (idp, f) => postMessage('SAMLRequest', signedBy(logoutRequestXml(f), f.id, idp, 'rsa-sha1')),
  ],
  [
    'logout-request.issuer-of-another-idp',
    'SAML_LOGOUT_ISSUER_INVALID',
    async (idp, f) => post(idp, { ...f, issuer: 'https://other-idp.test.example/metadata' }),
  ],
  [
    'logout-request.destination-elsewhere',
    'SAML_LOGOUT_DESTINATION_INVALID',
    async (idp, f) => post(idp, { ...f, destination: 'https://attacker.example/slo' }),
  ],
  [
    'logout-request.destination-missing',
    'SAML_LOGOUT_DESTINATION_INVALID',
    async (idp, { destination: _d, ...f }) => post(idp, f),
  ],
  [
    'logout-request.not-on-or-after-passed',
    'SAML_LOGOUT_EXPIRED',
    async (idp, f) => post(idp, { ...f, notOnOrAfter: new Date(Date.now() - 120_000).toISOString() }),
  ],
  [
    'logout-request.issued-an-hour-ago',
    'SAML_LOGOUT_EXPIRED',
    async (idp, f) => post(idp, { ...f, issueInstant: new Date(Date.now() - 3_600_000).toISOString() }),
  ],
  [
    'logout-request.issued-in-the-future',
    'SAML_LOGOUT_NOT_YET_VALID',
    async (idp, f) => post(idp, { ...f, issueInstant: new Date(Date.now() + 600_000).toISOString() }),
  ],
  ['logout-request.id-with-a-colon', 'SAML_SCHEMA_INVALID', async (idp, f) => post(idp, { ...f, id: `_x:${f.id}` })],
  ['logout-request.id-not-an-ncname', 'SAML_SCHEMA_INVALID', async (idp, f) => post(idp, { ...f, id: `1${f.id}` })],
  [
    'logout-request.with-doctype',
    'SAML_DTD_FORBIDDEN',
    async (idp, f) =>
      postMessage('SAMLRequest', `<!DOCTYPE x [<!ENTITY e "x">]>${signedBy(logoutRequestXml(f), f.id, idp)}`),
  ],
  [
    'logout-request.redirect-unsigned',
    'SAML_LOGOUT_SIGNATURE_MISSING',
    async (_i, f) => redirectMessage('SAMLRequest', logoutRequestXml(f)),
  ],
  [
    'logout-request.redirect-rsa-sha1',
    'SAML_ALG_NOT_ALLOWED',
    async (idp, f) =>
      redirectMessage('SAMLRequest', logoutRequestXml(f), { privateKey: idp.privateKey, sigAlg: RSA_SHA1 }),
  ],
  [
    'logout-request.redirect-signed-by-a-key-not-in-metadata',
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (_i, f) => redirectMessage('SAMLRequest', logoutRequestXml(f), { privateKey: foreign }),
  ],
  [
    'logout-request.redirect-relaystate-added-after-signing',
    'SAML_LOGOUT_SIGNATURE_INVALID',
    async (idp, f) =>
      redirectMessage('SAMLRequest', logoutRequestXml(f), {
        privateKey: idp.privateKey,
        tamper: (q) => q.replace('&SigAlg=', '&RelayState=injected&SigAlg='),
      }),
  ],
];

let foreignPem: string | undefined;
async function selfSignedForeign(): Promise<string> {
  const publicKey = createPublicKey(foreign);
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  foreignPem ??= await selfSignedCertificate(
    {
      kid: 'foreign',
      alg: 'RS256',
      purpose: 'saml',
      publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e, kid: 'foreign', alg: 'RS256', use: 'sig' },
      publicKey: () => publicKey,
      sign: async (data) => new Uint8Array(sign('sha256', data, foreign)),
    },
    { subject: 'CN=Test IdP', days: 2 },
  );
  return foreignPem;
}

/** The refusals answered to the IdP (logout-refusal.ts), by second-level status; every other shape gets the page. */
export const ANSWERED: Partial<Record<AdapterErrorCode, string>> = {
  SAML_LOGOUT_NOT_YET_VALID: 'RequestDenied',
  SAML_LOGOUT_EXPIRED: 'RequestDenied',
  SAML_LOGOUT_UNKNOWN_SESSION: 'UnknownPrincipal',
};

/** A refusal answered to the IdP: a LogoutResponse signed in the HSM, Requester + `second`, to its endpoint. */
export function assertAnswered(
  t: ExecutionContext,
  error: AdapterError | undefined,
  requestId: string,
  second: string,
  binding: 'post' | 'redirect' = 'post',
): void {
  if (!(error instanceof AnsweredLogoutRefusal)) return void t.fail('expected an answered refusal');
  const reply = error.reply;
  if (reply.binding !== binding) return void t.fail(`expected ${binding}`);
  if (reply.binding === 'redirect') {
    const query = reply.url.slice(reply.url.indexOf('?') + 1);
    const signed = query.slice(0, query.indexOf('&Signature='));
    const signature = decodeURIComponent(query.slice(query.indexOf('&Signature=') + 11));
    t.true(
      verify('sha256', Buffer.from(signed), createPublicKey(keys.certificatePem), Buffer.from(signature, 'base64')),
    );
    const xml = inflateRawSync(Buffer.from(new URLSearchParams(query).get('SAMLResponse')!, 'base64')).toString();
    return void statusOf(t, xml, requestId, second);
  }
  t.is(reply.url, IDP_SLO);
  const xml = Buffer.from(reply.fields.SAMLResponse!, 'base64').toString('utf8');
  const sig = new SignedXml({ publicCert: keys.certificatePem });
  sig.loadSignature(/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0]);
  t.true(sig.checkSignature(xml), 'signed with the HSM key of our metadata');
  statusOf(t, xml, requestId, second);
}

function statusOf(t: ExecutionContext, xml: string, requestId: string, second: string): void {
  t.regex(xml, new RegExp(`InResponseTo="${requestId}"`));
  t.regex(xml, /Destination="https:\/\/idp\.test\.example\/slo"/);
  t.true(
    xml.includes(
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester">' +
        `<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:${second}"/></samlp:StatusCode>`,
    ),
    xml,
  );
}
