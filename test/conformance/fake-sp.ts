/**
 * A throw-away SAML SP for the demo IdP's tests: an RSA key from node:crypto, a self-signed certificate (openssl),
 * SP metadata, and AuthnRequests signed with xml-crypto (HTTP-POST) or node:crypto (HTTP-Redirect).
 * Plays the gateway without importing it: conformance/ is tested as a black box.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';

const rsaSha256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/** An SP identity: entityID, ACS, key and certificate. */
export interface FakeSp {
  entityId: string;
  acsUrl: string;
  privateKeyPem: string;
  certPem: string;
  metadataXml: string;
}

/** A self-signed certificate for a PEM key (openssl; node:crypto cannot issue certificates). */
function selfSign(privateKeyPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-sp-'));
  try {
    writeFileSync(join(dir, 'key.pem'), privateKeyPem, { mode: 0o600 });
    return execFileSync(
      'openssl',
      ['req', '-x509', '-new', '-sha256', '-days', '2', '-key', join(dir, 'key.pem'), '-subj', '/CN=Fake SP for tests'],
      { encoding: 'utf8' },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Makes an SP with a fresh RSA 2048 key (node:crypto) and a self-signed certificate. */
export async function makeFakeSp(
  entityId = 'https://gateway.test/saml/metadata',
  acsUrl = 'https://gateway.test/saml/acs',
): Promise<FakeSp> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const certPem = selfSign(privateKeyPem);
  const certBody = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
  const metadataXml =
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}">` +
    `<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBody}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>` +
    `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${acsUrl}" index="0" isDefault="true"/>` +
    `</md:SPSSODescriptor></md:EntityDescriptor>`;
  return { entityId, acsUrl, privateKeyPem, certPem, metadataXml };
}

/** Options for an AuthnRequest. */
export interface AuthnRequestOptions {
  id?: string;
  destination: string;
  issuer?: string;
  acsUrl?: string;
  loa?: string;
}

/** An unsigned AuthnRequest XML. */
export function authnRequestXml(sp: FakeSp, options: AuthnRequestOptions): string {
  const id = options.id ?? `_${randomBytes(16).toString('hex')}`;
  return (
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
    `ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${options.destination}" ` +
    `AssertionConsumerServiceURL="${options.acsUrl ?? sp.acsUrl}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
    `<saml:Issuer>${options.issuer ?? sp.entityId}</saml:Issuer>` +
    `<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/>` +
    `<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>${options.loa ?? 'http://eidas.europa.eu/LoA/substantial'}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>` +
    `</samlp:AuthnRequest>`
  );
}

/** Signs an AuthnRequest with an enveloped signature after its Issuer (HTTP-POST binding). */
export function signAuthnRequest(xml: string, privateKeyPem: string, xpath = '/*'): string {
  const sig = new SignedXml({
    privateKey: privateKeyPem,
    signatureAlgorithm: rsaSha256,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' } });
  return sig.getSignedXml();
}

/** The HTTP-Redirect query string (SAMLRequest, RelayState, SigAlg, Signature) for an AuthnRequest. */
export function redirectQuery(xml: string, relayState: string, privateKeyPem: string | null): string {
  const parts = [
    `SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`,
    `RelayState=${encodeURIComponent(relayState)}`,
  ];
  if (privateKeyPem === null) return parts.join('&');
  parts.push(`SigAlg=${encodeURIComponent(rsaSha256)}`);
  const signature = sign('sha256', Buffer.from(parts.join('&'), 'utf8'), privateKeyPem).toString('base64');
  return `${parts.join('&')}&Signature=${encodeURIComponent(signature)}`;
}

/** Reads the value of a hidden input from an HTML page (the demo pages escape with &quot; etc.). */
export function hiddenValue(html: string, name: string): string | undefined {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  return match?.[1]
    ?.replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
