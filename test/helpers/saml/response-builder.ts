/**
 * Builds SAML Responses as a test IdP would send them: a valid baseline (SAML-BASE-00) from a string
 * template, with one knob per field the negative cases change. Signing is separate (`signElement`), so
 * attack shapes can be made before or after signing.
 */
import { randomBytes } from 'node:crypto';

export const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const LOA_SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';

export interface ResponseFields {
  responseId: string;
  assertionId: string;
  issuer: string;
  /** `null` leaves the attribute out. */
  inResponseTo: string | null;
  destination: string | null;
  recipient: string | null;
  audience: string;
  nameId: string;
  nameIdFormat: string;
  now: Date;
  /** Raw XML of further Conditions (after the AudienceRestriction), e.g. `<saml:OneTimeUse/>`. */
  extraConditions?: string;
  /** AuthnStatement/@AuthnInstant; default `now`. */
  authnInstant?: Date;
  /** Conditions window. */
  notBefore: Date;
  notOnOrAfter: Date;
  /** SubjectConfirmationData NotOnOrAfter. */
  confirmationNotOnOrAfter: Date;
  status: string;
  loa: string;
  attributes: Record<string, string[]>;
  /** Raw XML replacing the whole Assertion ('' for none). */
  assertionOverride?: string;
}

/** A fresh SAML ID. */
export function samlId(): string {
  return `_${randomBytes(12).toString('hex')}`;
}

/** Baseline field values around `now`, for an SP with `acsUrl` / `spEntityId`. */
export function baselineFields(input: {
  issuer: string;
  acsUrl: string;
  spEntityId: string;
  inResponseTo: string;
  now?: Date;
}): ResponseFields {
  const now = input.now ?? new Date();
  return {
    responseId: samlId(),
    assertionId: samlId(),
    issuer: input.issuer,
    inResponseTo: input.inResponseTo,
    destination: input.acsUrl,
    recipient: input.acsUrl,
    audience: input.spEntityId,
    nameId: 'user-4711@idp.test.example',
    nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    now,
    notBefore: new Date(now.getTime() - 30_000),
    notOnOrAfter: new Date(now.getTime() + 5 * 60_000),
    confirmationNotOnOrAfter: new Date(now.getTime() + 5 * 60_000),
    status: SUCCESS,
    loa: LOA_SUBSTANTIAL,
    attributes: {
      given_name: ['Ada'],
      family_name: ['Lovelace'],
      'urn:oid:0.9.2342.19200300.100.1.3': ['ada@example.org'],
      birthdate: ['1815-12-10'],
    },
  };
}

const opt = (name: string, value: string | null): string => (value === null ? '' : ` ${name}="${value}"`);

/** The Assertion element of `f`, unsigned. */
export function assertionXml(f: ResponseFields, id = f.assertionId, nameId = f.nameId): string {
  const attributes = Object.entries(f.attributes)
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${name}">${values.map((v) => `<saml:AttributeValue>${v}</saml:AttributeValue>`).join('')}</saml:Attribute>`,
    )
    .join('');
  return (
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${f.now.toISOString()}">` +
    `<saml:Issuer>${f.issuer}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${f.nameIdFormat}">${nameId}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData${opt('InResponseTo', f.inResponseTo)}${opt('Recipient', f.recipient)} NotOnOrAfter="${f.confirmationNotOnOrAfter.toISOString()}"/>` +
    `</saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${f.notBefore.toISOString()}" NotOnOrAfter="${f.notOnOrAfter.toISOString()}">` +
    `<saml:AudienceRestriction><saml:Audience>${f.audience}</saml:Audience></saml:AudienceRestriction>${f.extraConditions ?? ''}</saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${(f.authnInstant ?? f.now).toISOString()}" SessionIndex="_s${f.assertionId}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>${f.loa}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` +
    `</saml:Assertion>`
  );
}

/** The whole Response, unsigned. */
export function responseXml(f: ResponseFields): string {
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="${f.responseId}" Version="2.0" IssueInstant="${f.now.toISOString()}"${opt('Destination', f.destination)}${opt('InResponseTo', f.inResponseTo)}>` +
    `<saml:Issuer>${f.issuer}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${f.status}"/></samlp:Status>` +
    (f.assertionOverride ?? assertionXml(f)) +
    `</samlp:Response>`
  );
}
