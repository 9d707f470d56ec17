/**
 * The SP (the gateway) as the suite eIDAS node sees it, read from its published SAML metadata on every
 * login (keys may rotate): entityID, HTTP-POST ACS URLs, signing certificates (for the AuthnRequest) and
 * the encryption certificate (`use="encryption"`) the Assertion is encrypted to.
 */
import { ConformanceError } from '../../errors.ts';
import { NS, parseXml } from '../hostile/dom.ts';
import { assertWellFormedXml } from '../xml-guard.ts';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

/** What the node needs of the SP. */
export interface SpView {
  entityId: string;
  acsUrls: string[];
  signingCertificates: string[];
  /** Undefined when the SP publishes no encryption key (an eIDAS SP must). */
  encryptionCertificate: string | undefined;
  xml: string;
}

function toPem(body: string): string {
  return `-----BEGIN CERTIFICATE-----\n${
    body
      .replace(/\s+/g, '')
      .match(/.{1,64}/g)
      ?.join('\n') ?? ''
  }\n-----END CERTIFICATE-----\n`;
}

/**
 * Fetches and reads the SP metadata.
 *
 * @throws ConformanceError `SP_METADATA_UNAVAILABLE`, `SP_METADATA_INVALID`, `XML_MALFORMED`, `XML_DOCTYPE_REFUSED`
 * @example const sp = await readSpMetadata('http://127.0.0.1:3000/saml/metadata'); sp.encryptionCertificate
 */
export async function readSpMetadata(url: string): Promise<SpView> {
  let xml: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    xml = await response.text();
  } catch (cause) {
    throw new ConformanceError('SP_METADATA_UNAVAILABLE', 502, `SP metadata unavailable: ${(cause as Error).message}`);
  }
  assertWellFormedXml(xml);
  const root = parseXml(xml).documentElement;
  if (root === null || root.localName !== 'EntityDescriptor' || root.namespaceURI !== MD)
    throw new ConformanceError('SP_METADATA_INVALID', 502, 'not an md:EntityDescriptor');
  const view: SpView = {
    entityId: root.getAttribute('entityID') ?? '',
    acsUrls: [],
    signingCertificates: [],
    encryptionCertificate: undefined,
    xml,
  };
  const sp = root.getElementsByTagNameNS(MD, 'SPSSODescriptor').item(0);
  if (sp === null || view.entityId === '')
    throw new ConformanceError('SP_METADATA_INVALID', 502, 'no entityID or SPSSODescriptor');
  for (const acs of Array.from(sp.getElementsByTagNameNS(MD, 'AssertionConsumerService'))) {
    if (acs.getAttribute('Binding') === POST && acs.getAttribute('Location'))
      view.acsUrls.push(acs.getAttribute('Location')!);
  }
  for (const descriptor of Array.from(sp.getElementsByTagNameNS(MD, 'KeyDescriptor'))) {
    const body = descriptor.getElementsByTagNameNS(NS.dsig, 'X509Certificate').item(0)?.textContent ?? '';
    if (body.trim() === '') continue;
    const use = descriptor.getAttribute('use');
    if (use === 'encryption') view.encryptionCertificate ??= toPem(body);
    if (use === 'signing' || use === null || use === '') view.signingCertificates.push(toPem(body));
  }
  return view;
}
