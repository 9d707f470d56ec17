/**
 * A test SAML IdP of our own, for isolated adapter tests: an RSA key made by node:crypto at test time,
 * a self-signed certificate, its metadata file, and a Response builder (string templates, signed with
 * xml-crypto and the IdP's software key). It shares no code with `adapters/saml/` on purpose, and it is
 * independent of the samlify demo IdP in `conformance/`.
 *
 * The IdP's key is software because the IdP is the outside party; our SP key lives in the HSM.
 */
import { createPublicKey, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';
import type { Signer } from '../../../hsm/signer.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';

export interface TestIdp {
  entityId: string;
  ssoUrl: string;
  privateKey: KeyObject;
  certificatePem: string;
  metadataXml: string;
  metadataFile: string;
}

/** A Signer over a software key, used only to self-sign the test IdP's certificate. */
function softwareSigner(privateKey: KeyObject): Signer {
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  return {
    kid: 'test-idp',
    alg: 'RS256',
    purpose: 'saml',
    publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e, kid: 'test-idp', alg: 'RS256', use: 'sig' },
    publicKey: () => publicKey,
    sign: async (data) => new Uint8Array(nodeSign('sha256', data, privateKey)),
  };
}

/** Creates a test IdP with a fresh 2048-bit RSA key and writes its metadata to a temporary file. */
export async function createTestIdp(
  options: { entityId?: string; ssoUrl?: string; slo?: { post?: string; redirect?: string } } = {},
): Promise<TestIdp> {
  const entityId = options.entityId ?? 'https://idp.test.example/metadata';
  const ssoUrl = options.ssoUrl ?? 'https://idp.test.example/sso';
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificatePem = await selfSignedCertificate(softwareSigner(privateKey), { subject: 'CN=Test IdP', days: 2 });
  const metadataXml = idpMetadataXml({
    entityId,
    ssoUrl,
    certificatePem,
    ...(options.slo ? { slo: options.slo } : {}),
  });
  const dir = await mkdtemp(join(tmpdir(), 'gw-saml-idp-'));
  const metadataFile = join(dir, 'idp-metadata.xml');
  await writeFile(metadataFile, metadataXml);
  return { entityId, ssoUrl, privateKey, certificatePem, metadataXml, metadataFile };
}

/** Base64 body of a PEM certificate. */
export function certificateBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

/** IdP metadata XML with one signing certificate and POST + Redirect SSO endpoints. */
export function idpMetadataXml(input: {
  entityId: string;
  ssoUrl: string;
  certificatePem: string;
  use?: string;
  /** SingleLogoutService endpoints to list, by binding. */
  slo?: { post?: string; redirect?: string };
}): string {
  const use = input.use === undefined ? ' use="signing"' : input.use === '' ? '' : ` use="${input.use}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${input.entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">
    <md:KeyDescriptor${use}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(input.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    ${input.slo?.redirect ? `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${input.slo.redirect}"/>` : ''}
    ${input.slo?.post ? `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${input.slo.post}"/>` : ''}
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${input.ssoUrl}"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${input.ssoUrl}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;
}

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';

export interface SignOptions {
  /** ID of the element to sign (the Response or the Assertion). */
  id: string;
  privateKey: KeyObject;
  certificatePem: string;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
}

/**
 * Signs the element with `ID=id` in `xml`: enveloped signature right after that element's Issuer,
 * exc-c14n, one Reference to `#id`, KeyInfo with the certificate (as real IdPs do).
 */
export function signElement(xml: string, options: SignOptions): string {
  const sig = new SignedXml({
    privateKey: options.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    publicCert: options.certificatePem,
    signatureAlgorithm: options.signatureAlgorithm ?? RSA_SHA256,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: `//*[@ID='${options.id}']`,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: options.digestAlgorithm ?? SHA256,
  });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `//*[@ID='${options.id}']/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}
