/**
 * Reads an IdP's SAML metadata file into what the adapter trusts: its entityID, its SingleSignOnService
 * endpoints (HTTP-POST, HTTP-Redirect) and its signing certificates.
 *
 * - Parsed with the strict parser (no DTD, one root); the root must be one md:EntityDescriptor.
 * - Exactly one IDPSSODescriptor supporting the SAML 2.0 protocol.
 * - Signing certificates are KeyDescriptors with `use="signing"` or no `use`; each must parse as X.509.
 * - At least one signing certificate and one SSO endpoint, else `SAML_METADATA_INVALID`.
 * - SingleLogoutService (HTTP-POST, HTTP-Redirect), when listed: Location and, when given, ResponseLocation
 *   (where LogoutResponses go); an IdP without one takes no part in Single Logout.
 * - `alg:SigningMethod` (SAML V2.0 Metadata Profile for Algorithm Support) in the IDPSSODescriptor's
 *   Extensions, else the EntityDescriptor's: the SignatureMethods the IdP supports, in its order. Only used
 *   to choose how we sign our requests to it (`request-signing.ts`); never to accept anything from it.
 */
import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { readFile } from 'node:fs/promises';
import { AdapterError } from '../contract.ts';
import { samlError } from './errors.ts';
import { attr, childrenNamed, descendantsNamed, isElement, textOnly } from './xml/dom.ts';
import { BINDING, NS } from './xml/namespaces.ts';
import { parseStrictXml } from './xml/parse.ts';

export interface IdpMetadata {
  entityId: string;
  sso: { post?: string; redirect?: string };
  /** SingleLogoutService endpoints by binding (absent: the IdP offers no Single Logout we can use). */
  slo?: { post?: LogoutEndpoint; redirect?: LogoutEndpoint };
  /** PEM certificates with `use=signing` (or no use). The only keys IdP signatures are checked with. */
  signingCertificates: string[];
  /** SignatureMethod URIs the IdP declares it supports (`alg:SigningMethod`), in its order; absent: none declared. */
  signingMethods?: string[];
  /** Certificates left out because their key is too weak for the IdP's kind (never trusted; named in reports). */
  weakSigningCertificates?: { pem: string; problem: string }[];
}

/** One SingleLogoutService: where requests go, and where responses go (ResponseLocation, else Location). */
export interface LogoutEndpoint {
  location: string;
  responseLocation: string;
}

/** Reads and parses a metadata file. Throws `SAML_METADATA_INVALID`. */
export async function loadIdpMetadata(path: string): Promise<IdpMetadata> {
  let xml: string;
  try {
    xml = await readFile(path, 'utf8');
  } catch (cause) {
    throw samlError('SAML_METADATA_INVALID', { detail: `cannot read ${path}`, cause });
  }
  return parseIdpMetadata(xml);
}

/**
 * Parses IdP metadata XML.
 *
 * @example
 * const md = parseIdpMetadata(xml); // { entityId, sso: { post }, signingCertificates: [pem] }
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  try {
    return read(xml);
  } catch (cause) {
    if (cause instanceof AdapterError && cause.code === 'SAML_METADATA_INVALID') throw cause;
    const detail = cause instanceof AdapterError ? `${cause.code}: ${cause.detail ?? ''}` : String(cause);
    throw samlError('SAML_METADATA_INVALID', { detail, cause });
  }
}

function read(xml: string): IdpMetadata {
  const root = parseStrictXml(xml).documentElement!;
  if (!isElement(root, NS.metadata, 'EntityDescriptor'))
    throw samlError('SAML_METADATA_INVALID', { detail: 'root is not md:EntityDescriptor' });
  return readIdpEntity(root);
}

/**
 * Reads one md:EntityDescriptor element (alone or inside an aggregate) into `IdpMetadata`.
 * Throws `SAML_METADATA_INVALID` (or a parser code) for anything it does not accept.
 */
/**
 * Whether an endpoint is an absolute http(s) URL. Anything else is refused: the gateway sends browsers to these
 * addresses (a redirect, or an auto-submitted form's action, on pages of its own origin), and a `javascript:` or
 * `data:` one an IdP's metadata named would run in the gateway's origin.
 */
function isWebUrl(value: string | undefined): value is string {
  return value !== undefined && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}

export function readIdpEntity(root: Element): IdpMetadata {
  const invalid = (detail: string) => samlError('SAML_METADATA_INVALID', { detail });
  const entityId = attr(root, 'entityID');
  if (!entityId) throw invalid('entityID missing');
  const descriptors = childrenNamed(root, NS.metadata, 'IDPSSODescriptor').filter((d) =>
    (attr(d, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.protocol),
  );
  if (descriptors.length !== 1) throw invalid(`${descriptors.length} SAML 2.0 IDPSSODescriptor elements`);
  const idp = descriptors[0]!;

  const sso: IdpMetadata['sso'] = {};
  for (const service of childrenNamed(idp, NS.metadata, 'SingleSignOnService')) {
    const location = attr(service, 'Location');
    if (!isWebUrl(location)) throw invalid('SingleSignOnService without an absolute http(s) Location');
    const binding = attr(service, 'Binding');
    if (binding === BINDING.post) sso.post ??= location;
    if (binding === BINDING.redirect) sso.redirect ??= location;
  }
  if (!sso.post && !sso.redirect) throw invalid('no HTTP-POST or HTTP-Redirect SingleSignOnService');

  const slo: NonNullable<IdpMetadata['slo']> = {};
  for (const service of childrenNamed(idp, NS.metadata, 'SingleLogoutService')) {
    const location = attr(service, 'Location');
    const responseLocation = attr(service, 'ResponseLocation') ?? location;
    if (!isWebUrl(location) || !isWebUrl(responseLocation))
      throw invalid('SingleLogoutService without an absolute http(s) Location and ResponseLocation');
    const binding = attr(service, 'Binding');
    if (binding === BINDING.post) slo.post ??= { location, responseLocation };
    if (binding === BINDING.redirect) slo.redirect ??= { location, responseLocation };
  }

  const signingCertificates: string[] = [];
  for (const key of childrenNamed(idp, NS.metadata, 'KeyDescriptor')) {
    const use = attr(key, 'use');
    if (use !== undefined && use !== 'signing') continue;
    for (const certificate of descendantsNamed(key, NS.dsig, 'X509Certificate')) {
      signingCertificates.push(toPem(textOnly(certificate)));
    }
  }
  if (signingCertificates.length === 0) throw invalid('no signing certificate');
  const signingMethods = declaredSigningMethods(idp);
  const entityMethods = signingMethods.length > 0 ? signingMethods : declaredSigningMethods(root);
  return {
    entityId,
    sso,
    ...(slo.post || slo.redirect ? { slo } : {}),
    signingCertificates,
    ...(entityMethods.length > 0 ? { signingMethods: entityMethods } : {}),
  };
}

/** The `Algorithm`s of `md:Extensions/alg:SigningMethod` children of `element`, in document order. */
function declaredSigningMethods(element: Element): string[] {
  return childrenNamed(element, NS.metadata, 'Extensions')
    .flatMap((extensions) => childrenNamed(extensions, NS.mdalg, 'SigningMethod'))
    .map((method) => attr(method, 'Algorithm'))
    .filter((uri): uri is string => uri !== undefined && uri !== '');
}

function toPem(base64: string): string {
  const body = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body))
    throw samlError('SAML_METADATA_INVALID', { detail: 'certificate is not base64' });
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch (cause) {
    throw samlError('SAML_METADATA_INVALID', { detail: 'certificate does not parse', cause });
  }
  return pem;
}
