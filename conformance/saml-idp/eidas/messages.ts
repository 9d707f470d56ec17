/**
 * The eIDAS messages of the suite node, as the EU eIDAS-Node writes them (eIDAS SAML Message Format and
 * Attribute Profile): attribute names `http://eidas.europa.eu/attributes/naturalperson/*` with NameFormat
 * `uri`, the LoA as AuthnContextClassRef, a persistent NameID, bearer confirmation, Conditions with
 * NotBefore/NotOnOrAfter/AudienceRestriction; and the node's IdP metadata (signing keys, SSO POST).
 * Every value is escaped; overrides let checks falsify one thing at a time.
 */
import { escapeXml } from '../xml-template.ts';
import { certificateBody } from './node-keys.ts';

/** Natural-person attribute prefix. */
export const NATURAL_PERSON = 'http://eidas.europa.eu/attributes/naturalperson/';
/** Attribute NameFormat of eIDAS. */
export const URI_FORMAT = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
/** The eIDAS LoA URIs. */
export const EIDAS_LOA = {
  low: 'http://eidas.europa.eu/LoA/low',
  substantial: 'http://eidas.europa.eu/LoA/substantial',
  high: 'http://eidas.europa.eu/LoA/high',
} as const;

/** The natural person the node asserts: its four mandatory attributes and two optional ones. */
export interface EidasPerson {
  username: string;
  /** `XX/YY/…`: XX the node's country, YY the SP's. */
  personIdentifier: string;
  familyName: string;
  firstName: string;
  /** xs:date YYYY-MM-DD. */
  dateOfBirth: string;
  gender?: 'Male' | 'Female' | 'Unspecified';
  placeOfBirth?: string;
}

/** The person every suite login uses by default (password: `<username>-demo`). */
export const ERIKA: EidasPerson = {
  username: 'erika',
  personIdentifier: 'DE/FR/05012345678',
  familyName: 'Mustermann',
  firstName: 'Erika',
  dateOfBirth: '1964-08-12',
  gender: 'Female',
  placeOfBirth: 'Berlin',
};

/** The person's attributes by full URI. */
export function personAttributes(person: EidasPerson): Record<string, string[]> {
  const out: Record<string, string[]> = {
    [`${NATURAL_PERSON}PersonIdentifier`]: [person.personIdentifier],
    [`${NATURAL_PERSON}CurrentFamilyName`]: [person.familyName],
    [`${NATURAL_PERSON}CurrentGivenName`]: [person.firstName],
    [`${NATURAL_PERSON}DateOfBirth`]: [person.dateOfBirth],
  };
  if (person.gender !== undefined) out[`${NATURAL_PERSON}Gender`] = [person.gender];
  if (person.placeOfBirth !== undefined) out[`${NATURAL_PERSON}PlaceOfBirth`] = [person.placeOfBirth];
  return out;
}

/** What the Assertion says. */
export interface AssertionInput {
  id: string;
  issuer: string;
  now: Date;
  inResponseTo: string;
  recipient: string;
  audience: string;
  nameId: string;
  loa: string;
  attributes: Record<string, string[]>;
  /** NameFormat of every attribute (default uri). */
  nameFormat?: string;
}

/** A stand-alone eIDAS Assertion (its own namespace declarations, so it encrypts as is). */
export function assertionXml(a: AssertionInput): string {
  const e = escapeXml;
  const later = new Date(a.now.getTime() + 5 * 60_000).toISOString();
  const attributes = Object.entries(a.attributes)
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${e(name)}" NameFormat="${e(a.nameFormat ?? URI_FORMAT)}">${values.map((v) => `<saml:AttributeValue>${e(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`,
    )
    .join('');
  return (
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${e(a.id)}" Version="2.0" IssueInstant="${a.now.toISOString()}">` +
    `<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${e(a.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${e(a.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${e(a.inResponseTo)}" NotOnOrAfter="${later}" Recipient="${e(a.recipient)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${new Date(a.now.getTime() - 30_000).toISOString()}" NotOnOrAfter="${later}"><saml:AudienceRestriction><saml:Audience>${e(a.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${a.now.toISOString()}"><saml:AuthnContext><saml:AuthnContextClassRef>${e(a.loa)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion>`
  );
}

/** A Response around `body` (an Assertion or EncryptedAssertion), unsigned. */
export function responseXml(r: {
  id: string;
  issuer: string;
  now: Date;
  inResponseTo: string;
  destination: string;
  body: string;
}): string {
  const e = escapeXml;
  return (
    `<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${e(r.id)}" Version="2.0"` +
    ` IssueInstant="${r.now.toISOString()}" Destination="${e(r.destination)}" InResponseTo="${e(r.inResponseTo)}">` +
    `<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${e(r.issuer)}</saml:Issuer>` +
    `<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status>${r.body}</saml2p:Response>`
  );
}

/** The node's IdP metadata, unsigned (the server signs it with the federation key). */
export function nodeMetadataXml(m: {
  id: string;
  entityId: string;
  ssoUrl: string;
  signingCertificates: readonly string[];
  validUntil: Date;
}): string {
  const e = escapeXml;
  const keys = m.signingCertificates
    .map(
      (pem) =>
        `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="${e(m.id)}" entityID="${e(m.entityId)}" validUntil="${m.validUntil.toISOString()}" cacheDuration="PT1H">` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">${keys}` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${e(m.ssoUrl)}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}
