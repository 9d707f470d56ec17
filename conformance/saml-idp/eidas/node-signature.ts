/**
 * XML signatures as an eIDAS node makes and checks them, on xml-crypto with custom SignatureAlgorithm
 * classes (the released xml-crypto has no ECDSA and its PSS is SHA-256 only):
 *
 * - RSASSA-PSS `xmldsig-more#sha256-rsa-MGF1` / `sha384-rsa-MGF1` (MGF1 with the same hash, salt = hash
 *   length), ECDSA `ecdsa-sha256` / `ecdsa-sha384` (raw r‖s, `ieee-p1363`), and — for hostile checks only —
 *   RSA PKCS#1 v1.5 `rsa-sha256`, which the eIDAS profile refuses (EID-C1).
 * - Enveloped signature after the element's Issuer (or first child), exc-c14n, one Reference to the ID.
 * - `verifyEnvelopedSignature` checks the gateway's AuthnRequest with the signing certificates of its
 *   SP metadata (PSS or ECDSA; a PKCS#1 v1.5 request is not eIDAS and is refused).
 */
import { constants, createHash, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { NS, parseXml } from '../hostile/dom.ts';

/** Signature method URIs. */
export const SIG = {
  pssSha256: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  pssSha384: 'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  ecdsaSha384: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
} as const;

const DIGEST = {
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha384: 'http://www.w3.org/2001/04/xmldsig-more#sha384',
} as const;
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

interface Method {
  hash: 'sha256' | 'sha384';
  options: { padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' };
  key: 'rsa' | 'ec';
}

/** How each method signs: the hash, Node's options, and the key type it needs. */
export const METHODS: Readonly<Record<string, Method>> = Object.freeze({
  [SIG.pssSha256]: {
    hash: 'sha256',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    key: 'rsa',
  },
  [SIG.pssSha384]: {
    hash: 'sha384',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
    key: 'rsa',
  },
  [SIG.ecdsaSha256]: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' }, key: 'ec' },
  [SIG.ecdsaSha384]: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' }, key: 'ec' },
  [SIG.rsaSha256]: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PADDING }, key: 'rsa' },
});

function method(uri: string): Method {
  const row = Object.hasOwn(METHODS, uri) ? METHODS[uri] : undefined;
  if (row === undefined) throw new Error(`the suite eIDAS node has no signature method ${uri}`);
  return row;
}

function installAlgorithms(sig: SignedXml): void {
  for (const [uri, row] of Object.entries(METHODS)) {
    (sig.SignatureAlgorithms as Record<string, unknown>)[uri] = class {
      getAlgorithmName = (): string => uri;
      getSignature = (signedInfo: string, key: string | Buffer): string =>
        nodeSign(row.hash, Buffer.from(signedInfo, 'utf8'), { key, ...row.options }).toString('base64');
      verifySignature = (material: string, key: string | Buffer, value: string): boolean =>
        nodeVerify(
          row.hash,
          Buffer.from(material, 'utf8'),
          { key: createPublicKey(key), ...row.options },
          Buffer.from(value, 'base64'),
        );
    };
  }
  (sig.HashAlgorithms as Record<string, unknown>)[DIGEST.sha384] = class {
    getAlgorithmName = (): string => DIGEST.sha384;
    getHash = (xml: string): string => createHash('sha384').update(xml, 'utf8').digest('base64');
  };
}

/** What to sign and how. */
export interface NodeSignOptions {
  /** The ID of the element to sign. */
  id: string;
  key: { privateKeyPem: string; certificatePem: string };
  /** A `SIG` URI. */
  method: string;
  /** Put the Signature first in the element (metadata) instead of after its Issuer. */
  first?: boolean;
}

/**
 * Returns `xml` with the element `ID=id` signed (enveloped, exc-c14n, certificate in KeyInfo).
 *
 * @example const signed = signAsNode(responseXml, { id: responseId, key: keys.rsa, method: SIG.pssSha256 });
 */
export function signAsNode(xml: string, options: NodeSignOptions): string {
  const row = method(options.method);
  const sig = new SignedXml({
    privateKey: options.key.privateKeyPem,
    publicCert: options.key.certificatePem,
    signatureAlgorithm: options.method,
    canonicalizationAlgorithm: EXC_C14N,
  });
  installAlgorithms(sig);
  sig.addReference({
    xpath: `//*[@ID='${options.id}']`,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N],
    digestAlgorithm: DIGEST[row.hash],
  });
  const location = options.first
    ? { reference: `//*[@ID='${options.id}']`, action: 'prepend' as const }
    : { reference: `//*[@ID='${options.id}']/*[local-name(.)='Issuer']`, action: 'after' as const };
  sig.computeSignature(xml, { prefix: 'ds', location });
  return sig.getSignedXml();
}

/**
 * True when the root element of `xml` carries one signature, over the root, with a PSS or ECDSA method,
 * valid for one of `certificates`. Never trusts KeyInfo.
 *
 * @example verifyEnvelopedSignature(authnRequestXml, sp.signingCertificates)
 */
export function verifyEnvelopedSignature(xml: string, certificates: readonly string[]): boolean {
  const doc = parseXml(xml);
  const root = doc.documentElement;
  if (root === null) return false;
  const signatures = doc.getElementsByTagNameNS(NS.dsig, 'Signature');
  if (signatures.length !== 1 || signatures.item(0)?.parentNode !== root) return false;
  const signature = signatures.item(0)!;
  const methodUri =
    signature.getElementsByTagNameNS(NS.dsig, 'SignatureMethod').item(0)?.getAttribute('Algorithm') ?? '';
  if (methodUri === SIG.rsaSha256 || !Object.hasOwn(METHODS, methodUri)) return false;
  return certificates.some((publicCert) => {
    const sig = new SignedXml({ publicCert, getCertFromKeyInfo: () => null });
    installAlgorithms(sig);
    try {
      sig.loadSignature(signature as never);
      if (!sig.checkSignature(xml)) return false;
      const id = root.getAttribute('ID');
      return (
        sig.getSignedReferences().length === 1 && id !== null && sig.getReferences().every((r) => r.uri === `#${id}`)
      );
    } catch {
      return false;
    }
  });
}
