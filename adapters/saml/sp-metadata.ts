/**
 * Our SP metadata, signed in the HSM.
 *
 * - EntityDescriptor with a real `ID` (else xml-crypto would invent a non-schema `Id`) and validUntil.
 * - SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true".
 * - KeyDescriptor use="signing" with our certificate; one ACS, HTTP-POST, index 0.
 * - The enveloped signature is the first child of EntityDescriptor (metadata schema order).
 */
import { X509Certificate } from 'node:crypto';
import type { Signer } from '../../hsm/signer.ts';
import { newSamlId } from './authn-request.ts';
import type { SamlSpConfig } from './config.ts';
import { signXml } from './sign-xml.ts';
import { xmlEscape } from './xml/escape.ts';
import { BINDING, NS } from './xml/namespaces.ts';

/** Metadata validity advertised to IdPs. */
const VALIDITY_MS = 7 * 24 * 3600 * 1000;

/** The unsigned SP metadata XML. */
export function buildSpMetadata(sp: SamlSpConfig, now: Date): string {
  const e = xmlEscape;
  const certificate = new X509Certificate(sp.signingCertificatePem).raw.toString('base64');
  return (
    `<md:EntityDescriptor xmlns:md="${NS.metadata}" xmlns:ds="${NS.dsig}" ID="${newSamlId()}"` +
    ` entityID="${e(sp.entityId)}" validUntil="${new Date(now.getTime() + VALIDITY_MS).toISOString()}">` +
    `<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="${NS.protocol}">` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:AssertionConsumerService Binding="${BINDING.post}" Location="${e(sp.acsUrl)}" index="0" isDefault="true"/>` +
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
export async function signedSpMetadata(sp: SamlSpConfig, signer: Signer, now: Date): Promise<string> {
  return signXml(buildSpMetadata(sp, now), { signer, certificatePem: sp.signingCertificatePem });
}
