/**
 * Our SP metadata, signed in the HSM.
 *
 * - EntityDescriptor with a real `ID` (else xml-crypto would invent a non-schema `Id`) and validUntil.
 * - Optional `md:Extensions` first (eIDAS: SPType when published here, the signing and digest methods we
 *   use — `alg:SigningMethod` / `alg:DigestMethod` — and the entity attributes).
 * - SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true".
 * - One KeyDescriptor use="signing" per signing certificate (the active key first, then the next keys
 *   published ahead of rotation), one use="encryption" per decryption certificate, with the
 *   EncryptionMethods we accept (AES-GCM, RSA-OAEP).
 * - One ACS, HTTP-POST, index 0; the NameID formats and, for eIDAS, the attributes we may request.
 * - The enveloped signature is the first child of EntityDescriptor (metadata schema order).
 */
import { X509Certificate } from 'node:crypto';
import type { Signer } from '../../hsm/signer.ts';
import { newSamlId } from './authn-request.ts';
import type { SamlSpConfig } from './config.ts';
import { signXml } from './sign-xml.ts';
import { xmlEscape } from './xml/escape.ts';
import { BINDING, NS } from './xml/namespaces.ts';
import { CONTENT_ALGORITHMS, KEY_TRANSPORT } from './xmlenc/algorithms.ts';

/** Metadata validity advertised to IdPs. */
const VALIDITY_MS = 7 * 24 * 3600 * 1000;

export interface SpMetadataOptions {
  /** Signing certificates besides `sp.signingCertificatePem` (next keys, ahead of rotation). */
  nextSigningCertificates?: string[];
  /** Decryption certificates besides `sp.encryptionCertificatePem` (next keys). */
  nextEncryptionCertificates?: string[];
  /** Complete children of `md:Extensions`, already escaped (built by a profile). */
  extensionsXml?: string;
  /** Extra namespace declarations on the root, e.g. `{ eidas: NS.eidas }`. */
  namespaces?: Record<string, string>;
  /** NameID formats we accept. */
  nameIdFormats?: string[];
  /** A complete `md:AttributeConsumingService`, already escaped (eIDAS: the attributes we may request). */
  attributeConsumingServiceXml?: string;
}

function keyDescriptor(use: 'signing' | 'encryption', pem: string): string {
  const body = new X509Certificate(pem).raw.toString('base64');
  const methods = use === 'encryption'
    ? [...CONTENT_ALGORITHMS.map((row) => row.uri), KEY_TRANSPORT.rsaOaepMgf1p, KEY_TRANSPORT.rsaOaep].map((uri) => `<md:EncryptionMethod Algorithm="${uri}"/>`).join('')
    : '';
  return `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>${methods}</md:KeyDescriptor>`;
}

/** The unsigned SP metadata XML. */
export function buildSpMetadata(sp: SamlSpConfig, now: Date, explicit: SpMetadataOptions = {}): string {
  const e = xmlEscape;
  const options = { ...sp.metadataOptions, ...explicit };
  const signing = [sp.signingCertificatePem, ...(options.nextSigningCertificates ?? [])];
  const encryption = [...(sp.encryptionCertificatePem ? [sp.encryptionCertificatePem] : []), ...(options.nextEncryptionCertificates ?? [])];
  const xmlns = Object.entries(options.namespaces ?? {}).map(([prefix, uri]) => ` xmlns:${prefix}="${e(uri)}"`).join('');
  return (
    `<md:EntityDescriptor xmlns:md="${NS.metadata}" xmlns:ds="${NS.dsig}"${xmlns} ID="${newSamlId()}"` +
    ` entityID="${e(sp.entityId)}" validUntil="${new Date(now.getTime() + VALIDITY_MS).toISOString()}">` +
    (options.extensionsXml ? `<md:Extensions>${options.extensionsXml}</md:Extensions>` : '') +
    `<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="${NS.protocol}">` +
    signing.map((pem) => keyDescriptor('signing', pem)).join('') +
    encryption.map((pem) => keyDescriptor('encryption', pem)).join('') +
    (options.nameIdFormats ?? []).map((format) => `<md:NameIDFormat>${e(format)}</md:NameIDFormat>`).join('') +
    `<md:AssertionConsumerService Binding="${BINDING.post}" Location="${e(sp.acsUrl)}" index="0" isDefault="true"/>` +
    (options.attributeConsumingServiceXml ?? '') +
    `</md:SPSSODescriptor>` +
    `</md:EntityDescriptor>`
  );
}

/**
 * The SP metadata, signed in the HSM with the `saml` signer.
 *
 * @example
 * const xml = await signedSpMetadata(sp, keys.activeSigner('saml'), new Date());
 */
export async function signedSpMetadata(sp: SamlSpConfig, signer: Signer, now: Date, options: SpMetadataOptions & { certificatePem?: string } = {}): Promise<string> {
  return signXml(buildSpMetadata(sp, now, options), { signer, certificatePem: options.certificatePem ?? sp.signingCertificatePem });
}
