/**
 * Logout messages as an IdP sends them, for Single Logout tests: string templates signed with the test
 * IdP's software key (xml-crypto for HTTP-POST, node:crypto over the query string for HTTP-Redirect). Shares
 * no code with `adapters/saml/`. `LOGOUT_REQUEST_SHAPES` names each hostile variant after its shape.
 */
import { randomBytes, sign as nodeSign, type KeyObject } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { RSA_SHA1, RSA_SHA256, signElement, SHA1, type TestIdp } from './test-idp.ts';

export const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const RESPONDER = 'urn:oasis:names:tc:SAML:2.0:status:Responder';

export interface LogoutRequestFields {
  id: string;
  issuer: string;
  destination?: string;
  issueInstant: string;
  notOnOrAfter?: string;
  nameId: string;
  format: string;
  sessionIndexes: string[];
}

export interface LogoutResponseFields {
  id: string;
  issuer: string;
  destination?: string;
  issueInstant: string;
  inResponseTo: string;
  status: string;
}

export const samlId = (): string => `_${randomBytes(16).toString('hex')}`;

export function logoutRequestFields(idp: TestIdp, destination: string, nameId: string, sessionIndex?: string) {
  const now = Date.now();
  return {
    id: samlId(),
    issuer: idp.entityId,
    destination,
    issueInstant: new Date(now).toISOString(),
    notOnOrAfter: new Date(now + 300_000).toISOString(),
    nameId,
    format: PERSISTENT,
    sessionIndexes: sessionIndex === undefined ? [] : [sessionIndex],
  } satisfies LogoutRequestFields;
}

export function logoutRequestXml(f: LogoutRequestFields): string {
  return (
    `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="${f.id}" Version="2.0" IssueInstant="${f.issueInstant}"` +
    (f.destination === undefined ? '' : ` Destination="${f.destination}"`) +
    (f.notOnOrAfter === undefined ? '' : ` NotOnOrAfter="${f.notOnOrAfter}"`) +
    `><saml:Issuer>${f.issuer}</saml:Issuer>` +
    `<saml:NameID Format="${f.format}">${f.nameId}</saml:NameID>` +
    f.sessionIndexes.map((s) => `<samlp:SessionIndex>${s}</samlp:SessionIndex>`).join('') +
    `</samlp:LogoutRequest>`
  );
}

export function logoutResponseXml(f: LogoutResponseFields): string {
  return (
    `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="${f.id}" Version="2.0" IssueInstant="${f.issueInstant}" InResponseTo="${f.inResponseTo}"` +
    (f.destination === undefined ? '' : ` Destination="${f.destination}"`) +
    `><saml:Issuer>${f.issuer}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${f.status}"/></samlp:Status>` +
    `</samlp:LogoutResponse>`
  );
}

export function successResponse(idp: TestIdp, destination: string, inResponseTo: string): LogoutResponseFields {
  return {
    id: samlId(),
    issuer: idp.entityId,
    destination,
    issueInstant: new Date().toISOString(),
    inResponseTo,
    status: SUCCESS,
  };
}

/** Signs the root (ID `id`) as the IdP, enveloped, after Issuer. */
export function signedBy(
  xml: string,
  id: string,
  key: { privateKey: KeyObject; certificatePem: string },
  alg: 'rsa-sha256' | 'rsa-sha1' = 'rsa-sha256',
): string {
  return signElement(xml, {
    id,
    privateKey: key.privateKey,
    certificatePem: key.certificatePem,
    ...(alg === 'rsa-sha1' ? { signatureAlgorithm: RSA_SHA1, digestAlgorithm: SHA1 } : {}),
  });
}

/** The HTTP-POST form fields. */
export function postMessage(param: 'SAMLRequest' | 'SAMLResponse', xml: string, relayState?: string) {
  return {
    method: 'POST',
    params: {
      [param]: Buffer.from(xml, 'utf8').toString('base64'),
      ...(relayState === undefined ? {} : { RelayState: relayState }),
    },
  };
}

/** The HTTP-Redirect query, signed over `param=…[&RelayState=…]&SigAlg=…` with the IdP's key (none: unsigned). */
export function redirectMessage(
  param: 'SAMLRequest' | 'SAMLResponse',
  xml: string,
  options: { privateKey?: KeyObject; sigAlg?: string; relayState?: string; tamper?: (query: string) => string } = {},
) {
  let query =
    `${param}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}` +
    (options.relayState === undefined ? '' : `&RelayState=${encodeURIComponent(options.relayState)}`);
  if (options.privateKey) {
    const sigAlg = options.sigAlg ?? RSA_SHA256;
    query += `&SigAlg=${encodeURIComponent(sigAlg)}`;
    const hash = sigAlg === RSA_SHA1 ? 'sha1' : 'sha256';
    const signature = nodeSign(hash, Buffer.from(query, 'utf8'), options.privateKey).toString('base64');
    query += `&Signature=${encodeURIComponent(signature)}`;
  }
  if (options.tamper) query = options.tamper(query);
  return {
    method: 'GET',
    params: Object.fromEntries(new URLSearchParams(query)),
    rawQuery: query,
  };
}
