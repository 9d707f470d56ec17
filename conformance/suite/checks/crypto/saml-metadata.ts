/**
 * SAML posture of the deployment's SP metadata and of the AuthnRequests it signs (SAML metadata §2.4.1.1,
 * XML-DSig 1.1, security-conformance.md EID-C1/C3 and CRYPTO-*): metadata signed with SHA-256+, no
 * private material, certificates with strong keys and not expired, AuthnRequests signed without SHA-1.
 */
import { X509Certificate } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { SuiteContext } from '../../context.ts';
import { judge, skip, type CheckDefinition, type Outcome } from '../../types.ts';
import { eidasEvidence } from '../eidas/profile.ts';

const WEAK_ALG = /#(rsa-sha1|dsa-sha1|hmac-sha1|sha1)$|xmldsig#sha1$|md5/;

function certificates(xml: string): X509Certificate[] {
  return [...xml.matchAll(/<(?:[A-Za-z0-9_-]+:)?X509Certificate>([^<]+)</g)].map(
    (m) => new X509Certificate(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')),
  );
}

function algorithms(xml: string, element: string): string[] {
  return [...xml.matchAll(new RegExp(`<(?:[A-Za-z0-9_-]+:)?${element}\\b[^>]*Algorithm="([^"]+)"`, 'g'))].map(
    (m) => m[1] ?? '',
  );
}

async function withMetadata(
  ctx: SuiteContext,
  expected: string,
  test: (xml: string) => [boolean, string],
): Promise<Outcome> {
  const xml = await ctx.spMetadata();
  if (xml === undefined) return skip('the deployment serves no SAML SP metadata at the configured URL', { expected });
  const [ok, observed] = test(xml);
  return judge(ok, { sent: 'GET SP metadata', expected, observed });
}

/** RSA ≥ 3072 or EC ≥ 256 (eIDAS EID-C3) — described. */
function certStrength(cert: X509Certificate): { ok: boolean; what: string } {
  const details = cert.publicKey.asymmetricKeyDetails ?? {};
  const type = cert.publicKey.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss')
    return { ok: (details.modulusLength ?? 0) >= 3072, what: `${type} ${details.modulusLength ?? '?'}` };
  if (type === 'ec')
    return {
      ok: ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? ''),
      what: `ec ${details.namedCurve ?? '?'}`,
    };
  if (type === 'ed25519' || type === 'ed448') return { ok: true, what: type };
  return { ok: false, what: String(type) };
}

/** An xs:duration without years or months (PnDTnHnMnS), in seconds; undefined when absent or not of that form. */
function durationSeconds(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === 'P' || value!.endsWith('T')) return undefined;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

/**
 * CRYPTO-SAML-06: the root tells IdPs when to fetch it again (cacheDuration) and stays valid for at least two
 * of those periods (an IdP that misses one fetch still holds valid metadata).
 */
export function judgeMetadataLifetime(xml: string, now: number): [boolean, string] {
  const root = /<(?:[A-Za-z0-9_-]+:)?EntityDescriptor\b[^>]*>/.exec(xml)?.[0] ?? '';
  const validUntil = /\svalidUntil="([^"]+)"/.exec(root)?.[1];
  const cacheDuration = /\scacheDuration="([^"]+)"/.exec(root)?.[1];
  const cache = durationSeconds(cacheDuration);
  const left = validUntil === undefined ? NaN : (Date.parse(validUntil) - now) / 1000;
  const observed = `validUntil ${validUntil ?? 'absent'} (${Number.isNaN(left) ? '?' : Math.floor(left)} s left), cacheDuration ${cacheDuration ?? 'absent'}`;
  return [cache !== undefined && cache > 0 && !Number.isNaN(left) && left >= 2 * cache, observed];
}

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

/**
 * CRYPTO-SAML-01: the metadata's root carries a `ds:Signature` that verifies (xml-crypto, with the certificate in its
 * KeyInfo: integrity; which key an IdP trusts is its own business), whose one Reference is the root (`#<its ID>`), with
 * SHA-256 or better. Only that signature's own methods are read: an `alg:DigestMethod` of the eIDAS extensions is no
 * signature (conformance review, thirty-seventh round: unsigned metadata with two of them passed).
 */
export function judgeMetadataSigned(xml: string): [boolean, string] {
  let root: Element | null;
  try {
    root = new DOMParser().parseFromString(xml, 'text/xml').documentElement;
  } catch (error) {
    return [false, `not XML: ${(error as Error).message.slice(0, 120)}`];
  }
  if (root === null) return [false, 'no root element'];
  const signature = Array.from(root.childNodes).find(
    (n): n is Element => (n as Element).localName === 'Signature' && (n as Element).namespaceURI === DSIG,
  );
  if (signature === undefined) return [false, 'unsigned (no ds:Signature on the root element)'];
  const own = signature.toString();
  const methods = [...algorithms(own, 'SignatureMethod'), ...algorithms(own, 'DigestMethod')];
  const certificate = /<(?:[A-Za-z0-9_-]+:)?X509Certificate>([^<]+)</.exec(own)?.[1]?.replace(/\s+/g, '');
  if (certificate === undefined)
    return [false, `signed (${methods.join(', ')}) without a KeyInfo certificate to verify it`];
  const verifier = new SignedXml({
    publicCert: `-----BEGIN CERTIFICATE-----\n${certificate}\n-----END CERTIFICATE-----\n`,
    getCertFromKeyInfo: () => null,
  });
  let verified = false;
  let why = '';
  try {
    verifier.loadSignature(own);
    verified = verifier.checkSignature(xml);
  } catch (error) {
    why = ` (${(error as Error).message.split('\n')[0]!.slice(0, 160)})`;
  }
  const references = verifier.getReferences().map((r) => r.uri ?? '');
  const coversRoot = references.length === 1 && references[0] === `#${root.getAttribute('ID') ?? '\u0000'}`;
  const strong = methods.length >= 2 && !methods.some((m) => WEAK_ALG.test(m));
  return [
    verified && coversRoot && strong,
    `${verified ? 'verifies' : `does NOT verify${why}`}; references ${references.join(' ') || 'nothing'}${coversRoot ? ' (the root)' : ' (NOT the root alone)'}; ${methods.join(', ')}`,
  ];
}

/** The certificates of `md:KeyDescriptor` elements with use="signing" (or no use). */
function signingCertificates(metadata: string): string[] {
  return [
    ...metadata.matchAll(
      /<(?:[A-Za-z0-9_-]+:)?KeyDescriptor\b([^>]*)>([\s\S]*?)<\/(?:[A-Za-z0-9_-]+:)?KeyDescriptor>/g,
    ),
  ]
    .filter((m) => !/\suse="encryption"/.test(m[1] ?? ''))
    .flatMap((m) => [...(m[2] ?? '').matchAll(/<(?:[A-Za-z0-9_-]+:)?X509Certificate>([^<]+)</g)])
    .map((m) => (m[1] ?? '').replace(/\s+/g, ''));
}

/** SignatureMethod family → the certificate key types it needs. */
const KEY_TYPES_OF: ReadonlyArray<[RegExp, readonly string[]]> = [
  [/#(rsa-sha\d+|sha\d+-rsa-MGF1)$/, ['rsa', 'rsa-pss']],
  [/#ecdsa-sha\d+$/, ['ec']],
  [/#eddsa-ed25519$/, ['ed25519']],
];

/**
 * CRYPTO-SAML-07: the certificate an AuthnRequest carries is a signing certificate of the SP metadata, and
 * its key type fits the SignatureMethod (an ECDSA method with an EC key, RSA with RSA). An IdP that trusts
 * only the metadata would refuse a request signed by an unpublished key (e.g. a new ECDSA key).
 */
export function judgeRequestKeyPublished(request: string, metadata: string): [boolean, string] {
  const method = algorithms(request, 'SignatureMethod')[0];
  const keyInfo = /<(?:[A-Za-z0-9_-]+:)?X509Certificate>([^<]+)</.exec(request)?.[1]?.replace(/\s+/g, '');
  if (method === undefined || keyInfo === undefined) return [false, 'no signature with a KeyInfo certificate'];
  const published = signingCertificates(metadata);
  const type = new X509Certificate(Buffer.from(keyInfo, 'base64')).publicKey.asymmetricKeyType ?? '?';
  const fits = KEY_TYPES_OF.find(([pattern]) => pattern.test(method))?.[1].includes(type) ?? false;
  const listed = published.includes(keyInfo);
  return [
    listed && fits,
    `${method.replace(/^.*#/, '')} with a ${type} key, ${listed ? '' : 'NOT '}among the ${published.length} signing certificates of the metadata${fits ? '' : ' (key type does not fit the method)'}`,
  ];
}

/** The SAML metadata checks. */
export const samlMetadataChecks: readonly CheckDefinition[] = [
  {
    id: 'CRYPTO-SAML-01',
    title: 'SP metadata is signed, without SHA-1',
    plan: 'crypto',
    source: 'SAML metadata §3; XML-DSig 1.1 §6.4 (SHA-1 discouraged); security-conformance.md EID-M1',
    run: (ctx) =>
      withMetadata(
        ctx,
        'a ds:Signature of the root element that verifies (with the certificate it carries) over the root, its SignatureMethod and DigestMethod SHA-256 or better',
        judgeMetadataSigned,
      ),
  },
  {
    id: 'CRYPTO-SAML-02',
    title: 'SP metadata holds no private key material',
    plan: 'crypto',
    source: 'CWE-312; SAML metadata §2.4.1.1 (KeyDescriptor carries public keys)',
    run: (ctx) =>
      withMetadata(ctx, 'no PRIVATE KEY block, no ds:RSAKeyValue private members', (xml) => {
        const leak = /PRIVATE KEY|<(?:[A-Za-z0-9_-]+:)?(PrivateExponent|P|Q|DP|DQ|InverseQ)>/.test(xml);
        return [!leak, leak ? 'private material found' : 'none found'];
      }),
  },
  {
    id: 'CRYPTO-SAML-03',
    title: 'SP metadata certificates have strong keys (RSA ≥ 3072, EC P-256+)',
    plan: 'crypto',
    source: 'eIDAS Cryptographic Requirements (EID-C3); ANSSI RGS B1',
    run: (ctx) =>
      withMetadata(ctx, 'every certificate key RSA ≥ 3072 or EC P-256/384/521', (xml) => {
        const report = certificates(xml).map(certStrength);
        return [
          report.length > 0 && report.every((r) => r.ok),
          report.length === 0 ? 'no certificate' : report.map((r) => `${r.what}${r.ok ? '' : ' (WEAK)'}`).join(', '),
        ];
      }),
  },
  {
    id: 'CRYPTO-SAML-04',
    title: 'SP metadata certificates are within their validity period',
    plan: 'crypto',
    source: 'RFC 5280 §4.1.2.5',
    run: (ctx) =>
      withMetadata(ctx, 'every certificate valid now', (xml) => {
        const now = Date.now();
        const certs = certificates(xml);
        const bad = certs.filter((c) => Date.parse(c.validFrom) > now || Date.parse(c.validTo) < now);
        return [
          certs.length > 0 && bad.length === 0,
          certs.map((c) => `valid to ${c.validTo}`).join('; ') || 'no certificate',
        ];
      }),
  },
  {
    id: 'CRYPTO-SAML-06',
    title: 'SP metadata says when to re-fetch it (cacheDuration) and stays valid for at least two such periods',
    plan: 'crypto',
    source:
      'SAML metadata §2.2.2 (validUntil, cacheDuration); issue #13 item 13 (IdPs holding expired SP metadata refuse every login)',
    run: (ctx) =>
      withMetadata(ctx, 'cacheDuration present on the root, validUntil at least 2 × cacheDuration from now', (xml) =>
        judgeMetadataLifetime(xml, Date.now()),
      ),
  },
  {
    id: 'CRYPTO-SAML-07',
    title: 'The key that signs AuthnRequests is published in the SP metadata (KeyDescriptor use="signing")',
    plan: 'crypto',
    source: 'SAML metadata §2.4.1.1; SAML 2.0 profiles §4.1.3.1 (the IdP verifies with the SP metadata keys)',
    run: async (ctx) => {
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)');
      const metadata = await ctx.spMetadata();
      if (metadata === undefined) return skip('the deployment serves no SAML SP metadata at the configured URL');
      const { authnRequestXml: xml } = await eidasEvidence(ctx);
      const [ok, observed] = judgeRequestKeyPublished(xml ?? '', metadata);
      return judge(ok, {
        sent: 'GET SP metadata; a login up to the AuthnRequest sent to the suite IdP',
        expected:
          'the AuthnRequest KeyInfo certificate is one of the metadata signing certificates, its key fits the SignatureMethod',
        observed,
      });
    },
  },
  {
    id: 'CRYPTO-SAML-05',
    title: 'AuthnRequests are signed without SHA-1',
    plan: 'crypto',
    source: 'SAML 2.0 profiles §4.1.3.1; XML-DSig 1.1 §6.4; security-conformance.md EID-C1',
    run: async (ctx) => {
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id)');
      const { authnRequestXml: xml } = await eidasEvidence(ctx);
      const methods =
        xml === undefined ? [] : [...algorithms(xml, 'SignatureMethod'), ...algorithms(xml, 'DigestMethod')];
      return judge(methods.length >= 2 && !methods.some((m) => WEAK_ALG.test(m)), {
        sent: 'a login up to the AuthnRequest sent to the suite IdP',
        expected: 'signed, SignatureMethod and DigestMethod SHA-256 or better',
        observed: methods.length === 0 ? 'unsigned or no AuthnRequest' : methods.join(', '),
      });
    },
  },
];
