/**
 * Our SP metadata, signed in the HSM.
 *
 * - EntityDescriptor with a real `ID` (else xml-crypto would invent a non-schema `Id`), validUntil and
 *   cacheDuration (configurable: `SpMetadataTimes`; `sp-metadata-publisher.ts` re-signs well before expiry).
 * - Optional `md:Extensions` first (eIDAS: SPType when published here, the signing and digest methods we
 *   use — `alg:SigningMethod` / `alg:DigestMethod` — and the entity attributes).
 * - SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true".
 * - One KeyDescriptor use="signing" per signing certificate (the active key first, then the next keys
 *   published ahead of rotation), one use="encryption" per decryption certificate, with the
 *   EncryptionMethods we accept (AES-GCM, RSA-OAEP).
 * - SingleLogoutService, HTTP-Redirect then HTTP-POST, both at `sp.sloUrl`, when Single Logout is on.
 * - One ACS, HTTP-POST, index 0; the NameID formats and, for eIDAS, the attributes we may request.
 * - The enveloped signature is the first child of EntityDescriptor (metadata schema order).
 */
import { X509Certificate } from 'node:crypto';
import type { Signer } from '../../hsm/signer.ts';
import { newSamlId } from './authn-request.ts';
import { samlError } from './errors.ts';
import type { SamlSpConfig } from './config.ts';
import { signXml } from './sign-xml.ts';
import type { SpMetadataOptions, SpMetadataTimes } from './sp-metadata-options.ts';

export type { SpMetadataOptions, SpMetadataTimes } from './sp-metadata-options.ts';
import { xmlEscape } from './xml/escape.ts';
import { BINDING, NS } from './xml/namespaces.ts';
import { CONTENT_ALGORITHMS, KEY_TRANSPORT } from './xmlenc/algorithms.ts';

/** 7 days valid, re-fetched daily: an IdP that misses six fetches in a row still holds valid metadata. */
export const DEFAULT_SP_METADATA_TIMES: SpMetadataTimes = { validitySeconds: 7 * 86400, cacheDurationSeconds: 86400 };
export const SP_METADATA_BOUNDS = {
  cacheDuration: { min: 300, max: 7 * 86400 },
  validity: { min: 3600, max: 365 * 86400 },
} as const;

/**
 * Refuses times an IdP could not work with (`SAML_CONFIG_INVALID`): cacheDuration 5 min..7 days, validity
 * 1 h..365 days, and validity ≥ 2 × cacheDuration (an IdP that misses one fetch still holds valid metadata).
 */
export function validateSpMetadataTimes(times: SpMetadataTimes): SpMetadataTimes {
  const { validitySeconds: v, cacheDurationSeconds: c } = times;
  const bad = (detail: string) => samlError('SAML_CONFIG_INVALID', { detail: `sp metadata ${detail}` });
  if (!Number.isInteger(c) || c < SP_METADATA_BOUNDS.cacheDuration.min || c > SP_METADATA_BOUNDS.cacheDuration.max)
    throw bad('cacheDurationSeconds must be an integer in 300..604800');
  if (!Number.isInteger(v) || v < SP_METADATA_BOUNDS.validity.min || v > SP_METADATA_BOUNDS.validity.max)
    throw bad('validitySeconds must be an integer in 3600..31536000');
  if (v < 2 * c) throw bad('validitySeconds must be at least twice cacheDurationSeconds');
  return times;
}

function keyDescriptor(use: 'signing' | 'encryption', pem: string): string {
  const body = new X509Certificate(pem).raw.toString('base64');
  const methods =
    use === 'encryption'
      ? [...CONTENT_ALGORITHMS.map((row) => row.uri), KEY_TRANSPORT.rsaOaepMgf1p, KEY_TRANSPORT.rsaOaep]
          .map((uri) => `<md:EncryptionMethod Algorithm="${uri}"/>`)
          .join('')
      : '';
  return `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>${methods}</md:KeyDescriptor>`;
}

/** The unsigned SP metadata XML. */
export function buildSpMetadata(sp: SamlSpConfig, now: Date, explicit: SpMetadataOptions = {}): string {
  const e = xmlEscape;
  const options = { ...sp.metadataOptions, ...explicit };
  const signing = [sp.signingCertificatePem, ...(options.nextSigningCertificates ?? [])];
  const encryption = [
    ...(sp.encryptionCertificatePem ? [sp.encryptionCertificatePem] : []),
    ...(options.nextEncryptionCertificates ?? []),
  ];
  const times = validateSpMetadataTimes(options.times ?? DEFAULT_SP_METADATA_TIMES);
  const xmlns = Object.entries(options.namespaces ?? {})
    .map(([prefix, uri]) => ` xmlns:${prefix}="${e(uri)}"`)
    .join('');
  return (
    `<md:EntityDescriptor xmlns:md="${NS.metadata}" xmlns:ds="${NS.dsig}"${xmlns} ID="${newSamlId()}"` +
    ` entityID="${e(sp.entityId)}" validUntil="${new Date(now.getTime() + times.validitySeconds * 1000).toISOString()}"` +
    ` cacheDuration="PT${times.cacheDurationSeconds}S">` +
    (options.extensionsXml ? `<md:Extensions>${options.extensionsXml}</md:Extensions>` : '') +
    `<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="${NS.protocol}">` +
    signing.map((pem) => keyDescriptor('signing', pem)).join('') +
    encryption.map((pem) => keyDescriptor('encryption', pem)).join('') +
    (sp.sloUrl
      ? `<md:SingleLogoutService Binding="${BINDING.redirect}" Location="${e(sp.sloUrl)}"/>` +
        `<md:SingleLogoutService Binding="${BINDING.post}" Location="${e(sp.sloUrl)}"/>`
      : '') +
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
export async function signedSpMetadata(
  sp: SamlSpConfig,
  signer: Signer,
  now: Date,
  options: SpMetadataOptions & { certificatePem?: string } = {},
): Promise<string> {
  return signXml(buildSpMetadata(sp, now, options), {
    signer,
    certificatePem: options.certificatePem ?? sp.signingCertificatePem,
  });
}
