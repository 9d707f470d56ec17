/**
 * The programmable part of the demo IdP: builds a SAML 2.0 login Response for a user from a template
 * (filled in one pass, values escaped) and signs it with samlify's XML-DSig signer (xml-crypto underneath).
 *
 * Defaults (what an honest eIDAS-style IdP sends):
 * - signed Assertion (rsa-sha256, SHA-256 digest, exc-c14n, enveloped), unsigned Response;
 * - Issuer = IdP entityID; Destination = Recipient = the SP's ACS; Audience = SP entityID;
 * - InResponseTo = the AuthnRequest ID; NotBefore = now, NotOnOrAfter = now + 5 min;
 * - persistent NameID; AuthnContextClassRef = the user's eIDAS LoA URI;
 * - attributes with NameFormat basic, named given_name, family_name, birthdate, gender, birthplace,
 *   birthcountry, email, preferred_username (when set).
 * Every one of these can be overridden (`ResponseOverrides`) to craft hostile messages.
 */
import { randomBytes } from 'node:crypto';
import * as samlify from 'samlify';
import { loaUri, type DemoUser } from './demo-users.ts';
import { fillXmlTemplate } from './xml-template.ts';

const rsaSha256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const transforms = ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'];
const nameIdPersistent = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const attrNameFormatBasic = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
const statusSuccess = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const lifetimeMs = 5 * 60 * 1000;

const responseTemplate =
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}" InResponseTo="{InResponseTo}">' +
  '<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{Issuer}</saml:Issuer>' +
  '<samlp:Status><samlp:StatusCode Value="{StatusCode}"/></samlp:Status>' +
  '<saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}">' +
  '<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{Issuer}</saml:Issuer>' +
  '<saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID>' +
  '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
  '<saml:SubjectConfirmationData NotOnOrAfter="{NotOnOrAfter}" Recipient="{Recipient}" InResponseTo="{InResponseTo}"/>' +
  '</saml:SubjectConfirmation></saml:Subject>' +
  '<saml:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction>{ExtraConditions}</saml:Conditions>' +
  '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{SessionIndex}" SessionNotOnOrAfter="{SessionNotOnOrAfter}"><saml:AuthnContext><saml:AuthnContextClassRef>{AuthnContextClassRef}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
  '{AttributeStatement}' +
  '</saml:Assertion></samlp:Response>';

const attributeTemplate =
  '<saml:Attribute Name="{Name}" NameFormat="{NameFormat}"><saml:AttributeValue xsi:type="xs:string">{Value}</saml:AttributeValue></saml:Attribute>';

/** The IdP's signing identity. */
export interface IdpSigningIdentity {
  entityId: string;
  privateKeyPem: string;
  certPem: string;
}

/** The SP a Response is addressed to. */
export interface SpAddress {
  entityId: string;
  acsUrl: string;
}

/** Everything of a Response that a conformance check may want to falsify. Unset = honest default. */
export interface ResponseOverrides {
  issuer?: string;
  audience?: string;
  /** Response/@Destination. */
  destination?: string;
  /** SubjectConfirmationData/@Recipient. */
  recipient?: string;
  /** `null` omits InResponseTo (unsolicited). */
  inResponseTo?: string | null;
  issueInstant?: Date;
  notBefore?: Date;
  notOnOrAfter?: Date;
  authnContextClassRef?: string;
  nameId?: string;
  nameIdFormat?: string;
  /** Merged over the user's attributes; `null` removes one. */
  attributes?: Record<string, string | null>;
  statusCode?: string;
  /** Default true. */
  signAssertion?: boolean;
  /** Default false. */
  signResponse?: boolean;
  /** Sign with this key instead (e.g. an attacker's); its certificate goes into KeyInfo. */
  signingKey?: { privateKeyPem: string; certPem: string };
  /** AuthnStatement/@SessionNotOnOrAfter: when the person's session at this IdP ends (default: not said). */
  sessionNotOnOrAfter?: Date;
  /** Raw XML of further Conditions, after the AudienceRestriction (e.g. `<saml:ProxyRestriction>`, `<saml:OneTimeUse/>`). */
  extraConditions?: string;
}

/** Input of `buildLoginResponse`. */
export interface LoginResponseInput {
  idp: IdpSigningIdentity;
  sp: SpAddress;
  user: DemoUser;
  /** The AuthnRequest ID; `null` for an unsolicited Response. */
  inResponseTo: string | null;
  now?: Date;
  overrides?: ResponseOverrides;
}

/** A built Response. */
export interface BuiltResponse {
  xml: string;
  /** base64 of `xml`, the value of the `SAMLResponse` form field. */
  base64: string;
  responseId: string;
  assertionId: string;
  /** The NameID, its Format and the SessionIndex asserted (what a LogoutRequest names later). */
  nameId: string;
  nameIdFormat: string;
  sessionIndex: string;
}

/**
 * The attributes the IdP asserts for a user, by SAML attribute name (= OIDC claim name).
 *
 * @example userAttributes(findUser('marie')!).birthplace // '75056'
 */
export function userAttributes(user: DemoUser): Record<string, string> {
  const attributes: Record<string, string> = {
    given_name: user.given_name,
    family_name: user.family_name,
    birthdate: user.birthdate,
    gender: user.gender,
    birthplace: user.birthplace,
    birthcountry: user.birthcountry,
    email: user.email,
  };
  if (user.preferred_username !== undefined) attributes.preferred_username = user.preferred_username;
  return attributes;
}

/**
 * Builds (and by default signs the Assertion of) a login Response.
 *
 * @example
 * const { base64 } = buildLoginResponse({ idp, sp: { entityId, acsUrl }, user, inResponseTo: requestId });
 * const hostile = buildLoginResponse({ idp, sp, user, inResponseTo: id, overrides: { audience: 'urn:other' } });
 */
export function buildLoginResponse(input: LoginResponseInput): BuiltResponse {
  const o = input.overrides ?? {};
  const now = o.issueInstant ?? input.now ?? new Date();
  const responseId = newId();
  const sessionIndex = `_session-${randomBytes(12).toString('hex')}`;
  const assertionId = newId();
  const attributes: Record<string, string | null> = { ...userAttributes(input.user), ...o.attributes };
  const attributeXml = Object.entries(attributes)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) =>
      fillXmlTemplate(attributeTemplate, { Name: name, NameFormat: attrNameFormatBasic, Value: value }),
    )
    .join('');
  const inResponseTo = o.inResponseTo === undefined ? input.inResponseTo : o.inResponseTo;

  const statement = attributeXml === '' ? '' : `<saml:AttributeStatement>${attributeXml}</saml:AttributeStatement>`;
  let xml = fillXmlTemplate(
    responseTemplate,
    {
      ID: responseId,
      AssertionID: assertionId,
      IssueInstant: now.toISOString(),
      Destination: o.destination ?? input.sp.acsUrl,
      Recipient: o.recipient ?? input.sp.acsUrl,
      InResponseTo: inResponseTo,
      Issuer: o.issuer ?? input.idp.entityId,
      StatusCode: o.statusCode ?? statusSuccess,
      NameIDFormat: o.nameIdFormat ?? nameIdPersistent,
      NameID: o.nameId ?? input.user.nameId,
      NotBefore: (o.notBefore ?? now).toISOString(),
      NotOnOrAfter: (o.notOnOrAfter ?? new Date(now.getTime() + lifetimeMs)).toISOString(),
      Audience: o.audience ?? input.sp.entityId,
      SessionIndex: sessionIndex,
      SessionNotOnOrAfter: o.sessionNotOnOrAfter?.toISOString() ?? null,
      AuthnContextClassRef: o.authnContextClassRef ?? loaUri(input.user.loa),
    },
    { AttributeStatement: statement, ExtraConditions: o.extraConditions ?? '' },
  );

  const key = o.signingKey ?? { privateKeyPem: input.idp.privateKeyPem, certPem: input.idp.certPem };
  if (o.signAssertion ?? true) xml = signAssertion(xml, key);
  if (o.signResponse ?? false) xml = signResponse(xml, key);
  return {
    xml,
    base64: Buffer.from(xml, 'utf8').toString('base64'),
    responseId,
    assertionId,
    nameId: o.nameId ?? input.user.nameId,
    nameIdFormat: o.nameIdFormat ?? nameIdPersistent,
    sessionIndex,
  };
}

function signAssertion(xml: string, key: { privateKeyPem: string; certPem: string }): string {
  return samlify.SamlLib.constructSAMLSignature({
    rawSamlMessage: xml,
    referenceTagXPath: "/*[local-name(.)='Response']/*[local-name(.)='Assertion']",
    privateKey: key.privateKeyPem,
    signatureAlgorithm: rsaSha256,
    signingCert: pemBody(key.certPem),
    transformationAlgorithms: transforms,
    isBase64Output: false,
    signatureConfig: {
      prefix: 'ds',
      location: {
        reference: "/*[local-name(.)='Response']/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']",
        action: 'after',
      },
    },
  });
}

function signResponse(xml: string, key: { privateKeyPem: string; certPem: string }): string {
  return samlify.SamlLib.constructSAMLSignature({
    rawSamlMessage: xml,
    isMessageSigned: true,
    privateKey: key.privateKeyPem,
    signatureAlgorithm: rsaSha256,
    signingCert: pemBody(key.certPem),
    transformationAlgorithms: transforms,
    isBase64Output: false,
    signatureConfig: {
      prefix: 'ds',
      location: { reference: "/*[local-name(.)='Response']/*[local-name(.)='Issuer']", action: 'after' },
    },
  });
}

/** The base64 body of a PEM certificate (what KeyInfo and metadata carry). */
export function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** A SAML ID: starts with a letter or underscore (xs:ID), 160 random bits. */
export function newId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}
