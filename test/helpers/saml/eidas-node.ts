/**
 * A test eIDAS node (Proxy-Service) of our own, as the EU eIDAS-Node behaves: software keys (it is the
 * outside party), signatures in RSA-PSS (SHA-256/384, MGF1) or ECDSA (P-256/P-384) made with xml-crypto
 * and custom signature-algorithm classes, assertions encrypted with AES-GCM and RSA-OAEP to our
 * decryption certificate, attributes with eIDAS URIs and NameFormat uri. Shares no code with adapters/.
 */
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';
import type { Signer } from '../../../hsm/signer.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import { samlId } from './response-builder.ts';
import { certificateBody } from './test-idp.ts';

export const PSS_SHA256 = 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1';
export const PSS_SHA384 = 'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1';
export const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
export const ECDSA_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const DIGEST: Record<string, string> = {
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha384: 'http://www.w3.org/2001/04/xmldsig-more#sha384',
};
const NP = 'http://eidas.europa.eu/attributes/naturalperson/';
const LP = 'http://eidas.europa.eu/attributes/legalperson/';
const URI_FORMAT = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';

/** How each signature method signs (hash, Node options). */
const METHODS: Record<string, { hash: 'sha256' | 'sha384'; options: object }> = {
  [PSS_SHA256]: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  [PSS_SHA384]: { hash: 'sha384', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 } },
  [ECDSA_SHA256]: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  [ECDSA_SHA384]: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  [RSA_SHA256]: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PADDING } },
};

export type NodeKeyKind = 'rsa' | 'ec-p256' | 'ec-p384';

export interface NodeKey {
  kind: NodeKeyKind;
  privateKey: KeyObject;
  certificatePem: string;
}

function softwareSigner(privateKey: KeyObject, kind: NodeKeyKind): Signer {
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const alg = kind === 'rsa' ? 'PS256' : kind === 'ec-p256' ? 'ES256' : 'ES384';
  const hash = kind === 'ec-p384' ? 'sha384' : 'sha256';
  const options =
    kind === 'rsa'
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
      : { dsaEncoding: 'ieee-p1363' as const };
  return {
    kid: `node-${kind}`,
    alg,
    purpose: 'saml',
    publicJwk: { ...(jwk as object), kid: `node-${kind}`, alg, use: 'sig' } as Signer['publicJwk'],
    publicKey: () => publicKey,
    sign: async (data) => new Uint8Array(nodeSign(hash, data, { key: privateKey, ...options })),
  };
}

/** A fresh node key (RSA, 3072 bits unless told, or EC) and its self-signed certificate. */
export async function nodeKey(kind: NodeKeyKind, subject = 'CN=Test eIDAS node', rsaBits = 3072): Promise<NodeKey> {
  const { privateKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: rsaBits })
      : generateKeyPairSync('ec', { namedCurve: kind === 'ec-p256' ? 'P-256' : 'P-384' });
  const certificatePem = await selfSignedCertificate(softwareSigner(privateKey, kind), { subject, days: 2 });
  return { kind, privateKey, certificatePem };
}

/** A SignatureMethod class for xml-crypto that signs with a software key (the node's side). */
function signingClass(uri: string) {
  const method = METHODS[uri];
  if (!method) throw new Error(`test node cannot sign with ${uri}`);
  return class {
    getAlgorithmName = () => uri;
    getSignature = (signedInfo: string, privateKey: string | Buffer) =>
      nodeSign(method.hash, Buffer.from(signedInfo, 'utf8'), { key: privateKey, ...method.options }).toString('base64');
    verifySignature = () => {
      throw new Error('signing only');
    };
  };
}

/**
 * Signs the element with `ID=id`: enveloped signature right after its Issuer (or first child when
 * `first`), exc-c14n, one Reference, KeyInfo with the certificate.
 */
export function signAsNode(
  xml: string,
  options: { id: string; key: NodeKey; method: string; first?: boolean },
): string {
  const method = METHODS[options.method]!;
  const sig = new SignedXml({
    privateKey: options.key.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    publicCert: options.key.certificatePem,
    signatureAlgorithm: options.method,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  (sig.SignatureAlgorithms as Record<string, unknown>)[options.method] = signingClass(options.method);
  (sig.HashAlgorithms as Record<string, unknown>)[DIGEST.sha384!] = class {
    getAlgorithmName = () => DIGEST.sha384!;
    getHash = (xml: string) => createHash('sha384').update(xml, 'utf8').digest('base64');
  };
  sig.addReference({
    xpath: `//*[@ID='${options.id}']`,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: DIGEST[method.hash]!,
  });
  const location = options.first
    ? { reference: `//*[@ID='${options.id}']`, action: 'prepend' as const }
    : { reference: `//*[@ID='${options.id}']/*[local-name(.)='Issuer']`, action: 'after' as const };
  sig.computeSignature(xml, { prefix: 'ds', location });
  return sig.getSignedXml();
}

/** IdP metadata of a node (unsigned; `signMetadata` signs it for lifecycle tests). */
export function nodeMetadataXml(input: {
  entityId: string;
  ssoUrl: string;
  signingCertificates: string[];
  id?: string;
  validUntil?: Date;
  cacheDuration?: string;
  /** An HTTP-POST SingleLogoutService, when the node offers Single Logout. */
  sloUrl?: string;
}): string {
  const keys = input.signingCertificates
    .map(
      (pem) =>
        `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  const validUntil = input.validUntil ? ` validUntil="${input.validUntil.toISOString()}"` : '';
  const cache = input.cacheDuration ? ` cacheDuration="${input.cacheDuration}"` : '';
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="${input.id ?? samlId()}" entityID="${input.entityId}"${validUntil}${cache}>` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">${keys}` +
    (input.sloUrl
      ? `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${input.sloUrl}"/>`
      : '') +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${input.ssoUrl}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}

export interface EidasPerson {
  personIdentifier: string;
  familyName: string;
  firstName: string;
  dateOfBirth: string;
  gender?: string;
  birthName?: string;
  placeOfBirth?: string;
  currentAddress?: string;
  legal?: { identifier: string; name: string };
  /** Extra attributes by full name (NameFormat uri). */
  extra?: Record<string, string[]>;
}

export const ERIKA: EidasPerson = {
  personIdentifier: 'DE/FR/0123456789',
  familyName: 'Mustermann',
  firstName: 'Erika',
  dateOfBirth: '1964-08-12',
  gender: 'Female',
  birthName: 'Gabler',
  placeOfBirth: 'Berlin',
  currentAddress: Buffer.from(
    '<eidas:LocatorDesignator>1</eidas:LocatorDesignator><eidas:PostName>Berlin</eidas:PostName>',
  ).toString('base64'),
};

/** eIDAS attributes of a person: name → values. */
export function eidasAttributes(person: EidasPerson): Record<string, string[]> {
  const out: Record<string, string[]> = {
    [`${NP}PersonIdentifier`]: [person.personIdentifier],
    [`${NP}CurrentFamilyName`]: [person.familyName],
    [`${NP}CurrentGivenName`]: [person.firstName],
    [`${NP}DateOfBirth`]: [person.dateOfBirth],
  };
  if (person.gender) out[`${NP}Gender`] = [person.gender];
  if (person.birthName) out[`${NP}BirthName`] = [person.birthName];
  if (person.placeOfBirth) out[`${NP}PlaceOfBirth`] = [person.placeOfBirth];
  if (person.currentAddress) out[`${NP}CurrentAddress`] = [person.currentAddress];
  if (person.legal) {
    out[`${LP}LegalPersonIdentifier`] = [person.legal.identifier];
    out[`${LP}LegalName`] = [person.legal.name];
  }
  return { ...out, ...person.extra };
}

export interface EidasAssertionInput {
  id: string;
  issuer: string;
  now: Date;
  inResponseTo: string;
  acsUrl: string;
  audience: string;
  nameId: string;
  loa: string;
  attributes: Record<string, string[]>;
  /** NameFormat for every attribute (default uri). */
  nameFormat?: string;
}

/** A stand-alone eIDAS Assertion (own namespace declarations, so it can be encrypted as is). */
export function eidasAssertionXml(a: EidasAssertionInput): string {
  const later = new Date(a.now.getTime() + 5 * 60_000).toISOString();
  const attributes = Object.entries(a.attributes)
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${name}" NameFormat="${a.nameFormat ?? URI_FORMAT}">${values.map((v) => `<saml:AttributeValue>${v}</saml:AttributeValue>`).join('')}</saml:Attribute>`,
    )
    .join('');
  return (
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${a.id}" Version="2.0" IssueInstant="${a.now.toISOString()}">` +
    `<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${a.issuer}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${a.nameId}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${a.inResponseTo}" NotOnOrAfter="${later}" Recipient="${a.acsUrl}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${new Date(a.now.getTime() - 30_000).toISOString()}" NotOnOrAfter="${later}"><saml:AudienceRestriction><saml:Audience>${a.audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${a.now.toISOString()}"><saml:AuthnContext><saml:AuthnContextClassRef>${a.loa}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion>`
  );
}

/** A Response around `assertionXml` (plain or an EncryptedAssertion), unsigned. */
export function eidasResponseXml(r: {
  id: string;
  issuer: string;
  now: Date;
  inResponseTo: string;
  destination: string;
  body: string;
  status?: string;
}): string {
  return (
    `<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${r.id}" Version="2.0"` +
    ` IssueInstant="${r.now.toISOString()}" Destination="${r.destination}" InResponseTo="${r.inResponseTo}">` +
    `<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${r.issuer}</saml:Issuer>` +
    `<saml2p:Status><saml2p:StatusCode Value="${r.status ?? 'urn:oasis:names:tc:SAML:2.0:status:Success'}"/></saml2p:Status>${r.body}</saml2p:Response>`
  );
}

/** Writes a node's metadata to a temporary file. */
export async function writeMetadataFile(xml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gw-eidas-node-'));
  const file = join(dir, 'metadata.xml');
  await writeFile(file, xml);
  return file;
}
