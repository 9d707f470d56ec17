/**
 * The benchmark's fast SAML IdP: a remote party, so its key is a plain node:crypto key (not in the HSM).
 *
 * Pre-minted: the whole Assertion is a template written directly in its exclusive-c14n form (namespace
 * declared on the Assertion, attributes in canonical order, no self-closing tags, no xsi:type), so its
 * canonical bytes are the string itself. A login fills IDs, instants and InResponseTo, takes one SHA-256 of
 * the Assertion, fills the canonical SignedInfo and signs it once. The signature cannot be made in advance:
 * InResponseTo (the AuthnRequest ID, chosen by the gateway) is inside the signed Assertion. So the key is a
 * cheap one: ECDSA P-256 (`ecdsa-sha256`, ~0.05 ms) by default, or the demo IdP's RSA-3072 (`rsa-sha256`)
 * with BENCH_IDP_KEY=rsa. It does not verify the gateway's AuthnRequest signature (that is the IdP's cost,
 * not the gateway's); it reads its ID, Issuer and ACS URL only. Its metadata declares the SignatureMethod
 * it signs with (`alg:SigningMethod`), so a gateway that chooses by metadata signs AuthnRequests to it with
 * the same family (ECDSA for the `ec` key).
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDevPki } from '../../../certs/dev-pki.ts';

const NS = {
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  alg: 'urn:oasis:names:tc:SAML:metadata:algsupport',
};
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const METHODS = {
  ec: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  rsa: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
} as const;
const SAFE = /^[A-Za-z0-9_.:/?=-]+$/; // nothing a template value would need escaping for

/**
 * What the IdP asserts: a different person per login, LoA substantial. The gateway's account is the pivot
 * identity (names, birth date and place), so the person's number also moves the birth date (one day each).
 */
const USER = {
  nameId: 'bench-idp-person-',
  loa: 'http://eidas.europa.eu/LoA/substantial',
  attributes: {
    given_name: 'Marie',
    family_name: 'Dupont',
    birthdate: '{birthdate}',
    gender: 'female',
    birthplace: '75056',
    birthcountry: '99100',
    email: 'marie.dupont@example.org',
  },
};

export interface FastIdp {
  entityId: string;
  metadataFile: string;
  keyKind: 'ec' | 'rsa';
  /** The SAMLResponse (base64) answering the AuthnRequest of an HTTP-POST form field, for person `person`. */
  respond(samlRequestBase64: string, person: number): { samlResponse: string; acsUrl: string };
}

function makeEcKey(dir: string): { keyPem: string; certPem: string } {
  const key = join(dir, 'bench-idp-ec.key.pem');
  const cert = join(dir, 'bench-idp-ec.cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-sha256',
      '-days',
      '30',
      '-subj',
      '/CN=bench IdP (test only)',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { keyPem: readFileSync(key, 'utf8'), certPem: readFileSync(cert, 'utf8') };
}

function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

function checked(value: string, what: string): string {
  if (!SAFE.test(value)) throw new Error(`fast IdP: unexpected characters in ${what}: ${value.slice(0, 80)}`);
  return value;
}

export function startFastIdp(dir: string, baseUrl: string, keyKind: 'ec' | 'rsa'): FastIdp {
  const pki =
    keyKind === 'ec'
      ? makeEcKey(dir)
      : (({ idpKeyPem, idpCertPem }) => ({ keyPem: idpKeyPem, certPem: idpCertPem }))(ensureDevPki(join(dir, 'pki')));
  const key: KeyObject = createPrivateKey(pki.keyPem);
  const cert = pemBody(pki.certPem);
  const entityId = `${baseUrl}/metadata`;
  const metadataFile = join(dir, 'bench-idp.metadata.xml');
  writeFileSync(
    metadataFile,
    `<md:EntityDescriptor xmlns:md="${NS.md}" entityID="${entityId}"><md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
      `<md:Extensions><alg:SigningMethod xmlns:alg="${NS.alg}" Algorithm="${METHODS[keyKind]}"/></md:Extensions>` +
      `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${NS.ds}"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
      `<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${baseUrl}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`,
  );

  // Everything that does not depend on the request, made once.
  const issuer = `<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${entityId}</saml:Issuer>`;
  const attributes = Object.entries(USER.attributes)
    .map(
      ([name, value]) =>
        `<saml:Attribute Name="${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue>${value}</saml:AttributeValue></saml:Attribute>`,
    )
    .join('');
  const [tailHead, tailEnd] =
    `<saml:AuthnContext><saml:AuthnContextClassRef>${USER.loa}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion>`.split(
      '{birthdate}',
    ) as [string, string];
  const birthdate = (person: number) => new Date(Date.UTC(1940, 0, 1) + person * 86_400_000).toISOString().slice(0, 10);
  const signedInfoHead = `<ds:SignedInfo xmlns:ds="${NS.ds}"><ds:CanonicalizationMethod Algorithm="${EXC_C14N}"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="${METHODS[keyKind]}"></ds:SignatureMethod><ds:Reference URI="#`;
  const signedInfoMiddle = `"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform><ds:Transform Algorithm="${EXC_C14N}"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod><ds:DigestValue>`;
  const keyInfo = `</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`;
  const signOptions = keyKind === 'ec' ? { key, dsaEncoding: 'ieee-p1363' as const } : { key };

  return {
    entityId,
    metadataFile,
    keyKind,
    respond(samlRequestBase64, person) {
      const request = Buffer.from(samlRequestBase64, 'base64').toString('utf8');
      const id = checked(/\sID="([^"]+)"/.exec(request)?.[1] ?? '', 'AuthnRequest ID');
      const acsUrl = checked(/\sAssertionConsumerServiceURL="([^"]+)"/.exec(request)?.[1] ?? '', 'ACS URL');
      const audience = checked(/<(?:saml2?:)?Issuer[^>]*>([^<]+)</.exec(request)?.[1] ?? '', 'SP entityID');
      const now = new Date(Date.now() - 1000);
      const at = now.toISOString();
      const until = new Date(now.getTime() + 300_000).toISOString();
      const assertionId = `_${randomBytes(20).toString('hex')}`;
      const head = `<saml:Assertion xmlns:saml="${NS.saml}" ID="${assertionId}" IssueInstant="${at}" Version="2.0">${issuer}`;
      const body =
        `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${USER.nameId}${person}</saml:NameID>` +
        `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${id}" NotOnOrAfter="${until}" Recipient="${acsUrl}"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>` +
        `<saml:Conditions NotBefore="${at}" NotOnOrAfter="${until}"><saml:AudienceRestriction><saml:Audience>${audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
        `<saml:AuthnStatement AuthnInstant="${at}" SessionIndex="_s${randomBytes(12).toString('hex')}">${tailHead}${birthdate(person)}${tailEnd}`;
      const digest = createHash('sha256').update(head).update(body).digest('base64');
      const signedInfo = `${signedInfoHead}${assertionId}${signedInfoMiddle}${digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>`;
      const signatureValue = sign('sha256', Buffer.from(signedInfo), signOptions).toString('base64');
      const signature = `<ds:Signature xmlns:ds="${NS.ds}">${signedInfo}<ds:SignatureValue>${signatureValue}${keyInfo}`;
      const response =
        `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="_${randomBytes(20).toString('hex')}" Version="2.0" IssueInstant="${at}" Destination="${acsUrl}" InResponseTo="${id}">` +
        `${issuer}<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>${head}${signature}${body}</samlp:Response>`;
      return { samlResponse: Buffer.from(response, 'utf8').toString('base64'), acsUrl };
    },
  };
}
