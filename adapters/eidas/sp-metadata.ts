/**
 * The eIDAS parts of our SP metadata (EID-M1..M4, EID-R5):
 *
 * - Entity attributes `protocol-version` (1.2) and `application-identifier`.
 * - `alg:DigestMethod` and `alg:SigningMethod` for what we sign with (the eIDAS SignatureMethods of our
 *   active `saml` keys) — only PSS and ECDSA are listed.
 * - `eidas:SPType` only when configured to be published here (EID-R5: in the metadata or in the
 *   request, never both; by default it travels in each request).
 * - An AttributeConsumingService naming every eIDAS attribute we may request.
 * The document itself is built and signed by `saml/sp-metadata.ts` in the HSM.
 */
import { ATTRIBUTE_MAP } from '../attributes/attribute-map.ts';
import type { SpMetadataOptions } from '../saml/sp-metadata.ts';
import { xmlEscape } from '../saml/xml/escape.ts';
import { ATTRNAME_URI, NS } from '../saml/xml/namespaces.ts';
import { EIDAS_SIGNATURE_METHODS } from '../saml/xmldsig.ts';

export const EIDAS_PROTOCOL_VERSION = '1.2';
const ENTITY_ATTRIBUTE = 'http://eidas.europa.eu/entity-attributes/';
const DIGESTS = [
  'http://www.w3.org/2001/04/xmlenc#sha512',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha256',
];

/**
 * Metadata options carrying the eIDAS extensions.
 *
 * @example
 * const options = eidasSpMetadataOptions({ signingMethods: [PS256_URI], applicationId: 'gateway 1.0' });
 */
export function eidasSpMetadataOptions(input: {
  signingMethods: string[];
  applicationId: string;
  spTypeInMetadata?: 'public' | 'private';
}): SpMetadataOptions {
  const e = xmlEscape;
  const entityAttribute = (name: string, value: string) =>
    `<saml:Attribute Name="${ENTITY_ATTRIBUTE}${name}" NameFormat="${ATTRNAME_URI}"><saml:AttributeValue>${e(value)}</saml:AttributeValue></saml:Attribute>`;
  const signing = input.signingMethods.filter((uri) => EIDAS_SIGNATURE_METHODS.includes(uri));
  const extensions =
    (input.spTypeInMetadata ? `<eidas:SPType>${e(input.spTypeInMetadata)}</eidas:SPType>` : '') +
    `<mdattr:EntityAttributes>${entityAttribute('protocol-version', EIDAS_PROTOCOL_VERSION)}${entityAttribute('application-identifier', input.applicationId)}</mdattr:EntityAttributes>` +
    DIGESTS.map((uri) => `<alg:DigestMethod Algorithm="${uri}"/>`).join('') +
    signing.map((uri) => `<alg:SigningMethod Algorithm="${uri}"/>`).join('');
  const requested = ATTRIBUTE_MAP.filter((row) => row.eidas)
    .map(
      (row) =>
        `<md:RequestedAttribute${row.eidasFriendlyName ? ` FriendlyName="${e(row.eidasFriendlyName)}"` : ''} Name="${e(row.eidas!)}" NameFormat="${ATTRNAME_URI}"/>`,
    )
    .join('');
  return {
    namespaces: { eidas: NS.eidas, mdattr: NS.mdattr, alg: NS.mdalg, saml: NS.assertion },
    extensionsXml: extensions,
    attributeConsumingServiceXml: `<md:AttributeConsumingService index="0"><md:ServiceName xml:lang="en">Identity federation gateway</md:ServiceName>${requested}</md:AttributeConsumingService>`,
  };
}
