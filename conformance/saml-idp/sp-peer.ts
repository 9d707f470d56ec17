/**
 * The SP the demo IdP serves (the gateway), known from its SAML metadata.
 *
 * - Metadata comes as XML or from a URL fetched lazily at first use (the gateway may start after the IdP);
 *   a failed fetch is retried on the next request, a success is kept.
 * - The metadata must be well-formed without DOCTYPE, hold exactly one EntityDescriptor with an
 *   SPSSODescriptor, at least one HTTP-POST AssertionConsumerService and a signing certificate.
 * - The metadata's own signature is not checked here (the URL is configured by the operator).
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import * as samlify from 'samlify';
import { ConformanceError } from '../errors.ts';
import { assertWellFormedXml } from './xml-guard.ts';

const md = 'urn:oasis:names:tc:SAML:2.0:metadata';
const postBinding = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

/** The SP as the IdP needs it. */
export interface SpPeer {
  entityId: string;
  /** HTTP-POST ACS URLs, the default one first. */
  acsUrls: string[];
  /** samlify's view of the SP (used to verify AuthnRequest signatures). */
  entity: samlify.ServiceProviderInstance;
}

/** Where the SP metadata comes from. */
export type SpMetadataSource = { spMetadataXml: string } | { spMetadataUrl: string };

/**
 * Reads SP metadata XML.
 *
 * @throws ConformanceError `SP_METADATA_INVALID`, `XML_MALFORMED`, `XML_DOCTYPE_REFUSED`.
 * @example const sp = spPeerFromMetadata(await (await fetch(url)).text());
 */
export function spPeerFromMetadata(xml: string): SpPeer {
  assertWellFormedXml(xml);
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  if (root === null || root.localName !== 'EntityDescriptor' || root.namespaceURI !== md) {
    throw new ConformanceError('SP_METADATA_INVALID', 502, 'SP metadata root is not an md:EntityDescriptor');
  }
  const entityId = root.getAttribute('entityID') ?? '';
  const descriptors = root.getElementsByTagNameNS(md, 'SPSSODescriptor');
  if (entityId === '' || descriptors.length !== 1) {
    throw new ConformanceError('SP_METADATA_INVALID', 502, 'SP metadata needs an entityID and one SPSSODescriptor');
  }
  const acs = Array.from(descriptors[0]!.getElementsByTagNameNS(md, 'AssertionConsumerService'))
    .filter((el: Element) => el.getAttribute('Binding') === postBinding && (el.getAttribute('Location') ?? '') !== '')
    .sort((a: Element, b: Element) => rank(a) - rank(b))
    .map((el: Element) => el.getAttribute('Location') as string);
  if (acs.length === 0) throw new ConformanceError('SP_METADATA_INVALID', 502, 'SP metadata has no HTTP-POST ACS');
  // logout messages to and from the SP are signed (samlify reads these from the target entity's settings)
  const entity = samlify.ServiceProvider({
    metadata: xml,
    wantLogoutRequestSigned: true,
    wantLogoutResponseSigned: true,
  });
  if (entity.entityMeta.getX509Certificate('signing') === null) {
    throw new ConformanceError('SP_METADATA_INVALID', 502, 'SP metadata has no signing certificate');
  }
  return { entityId, acsUrls: acs, entity };
}

/** isDefault="true" first, then by index, then document order (stable sort). */
function rank(el: Element): number {
  if (el.getAttribute('isDefault') === 'true') return -1;
  const index = Number(el.getAttribute('index') ?? 'NaN');
  return Number.isInteger(index) && index >= 0 ? index : Number.MAX_SAFE_INTEGER;
}

/**
 * A getter that loads the SP once, lazily; concurrent first calls share one fetch.
 *
 * @example const getSp = lazySpPeer({ spMetadataUrl: 'http://127.0.0.1:3000/saml/metadata' }); const sp = await getSp();
 */
export function lazySpPeer(source: SpMetadataSource): () => Promise<SpPeer> {
  let loading: Promise<SpPeer> | undefined;
  return () => {
    loading ??= load(source).catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

async function load(source: SpMetadataSource): Promise<SpPeer> {
  if ('spMetadataXml' in source) return spPeerFromMetadata(source.spMetadataXml);
  let xml: string;
  try {
    const response = await fetch(source.spMetadataUrl, { signal: AbortSignal.timeout(5000), redirect: 'error' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    xml = await response.text();
  } catch (cause) {
    throw new ConformanceError(
      'SP_METADATA_UNAVAILABLE',
      502,
      `SP metadata could not be fetched from ${source.spMetadataUrl}`,
      { cause },
    );
  }
  return spPeerFromMetadata(xml);
}
