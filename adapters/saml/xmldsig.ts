/**
 * The XML-DSig algorithms the SAML adapters accept, taken from the `hsm/` registry (never a switch):
 *
 * - SignatureMethod: only registry rows (RSA PKCS#1 v1.5 and PSS with SHA-256, ECDSA P-256/P-384, Ed25519).
 *   Every SHA-1 and HMAC URI is absent, so it is refused (`SAML_ALG_NOT_ALLOWED`).
 * - DigestMethod: SHA-256, SHA-384, SHA-512 only.
 * - xml-crypto's own algorithm maps are replaced by these classes on every `SignedXml` we create.
 */
import { createHash, createPublicKey, verify, type KeyLike } from 'node:crypto';
import type { SignedXml } from 'xml-crypto';
import { ALGORITHMS, type AlgorithmRow } from '../../hsm/algorithms.ts';

type Callback<T> = (error: Error | null, value?: T) => void;

const DIGESTS: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};

/** True when `uri` is an allowed DigestMethod. */
export function isAllowedDigest(uri: string): boolean {
  return Object.hasOwn(DIGESTS, uri);
}

/** The registry row of an allowed SignatureMethod, or undefined when the URI is not allowed. */
export function allowedSignatureMethod(uri: string): AlgorithmRow | undefined {
  return ALGORITHMS.find((row) => row.xmlDsig.signatureMethod === uri);
}

function hashClass(uri: string, hash: string) {
  return class {
    getAlgorithmName = (): string => uri;
    getHash = (xml: string): string => createHash(hash).update(xml, 'utf8').digest('base64');
  };
}

/** A verify-only SignatureMethod class for one registry row (signing goes through `sign-xml.ts`). */
function verifyClass(row: AlgorithmRow) {
  return class {
    getAlgorithmName = (): string => row.xmlDsig.signatureMethod;
    getSignature = (): never => {
      throw new Error('verification-only algorithm');
    };
    verifySignature = (material: string, key: KeyLike, signatureValue: string, callback?: Callback<boolean>): boolean => {
      const ok = verify(row.hash, Buffer.from(material, 'utf8'), { key: createPublicKey(key), ...row.nodeVerify }, Buffer.from(signatureValue, 'base64'));
      callback?.(null, ok);
      return ok;
    };
  };
}

/**
 * Replaces a `SignedXml`'s algorithm maps with the allow-lists above.
 *
 * @example
 * const sig = new SignedXml({ publicCert }); restrictAlgorithms(sig);
 */
export function restrictAlgorithms(sig: SignedXml): void {
  const hashes: Record<string, unknown> = {};
  for (const [uri, hash] of Object.entries(DIGESTS)) hashes[uri] = hashClass(uri, hash);
  const signatures: Record<string, unknown> = {};
  for (const row of ALGORITHMS) signatures[row.xmlDsig.signatureMethod] = verifyClass(row);
  sig.HashAlgorithms = hashes as SignedXml['HashAlgorithms'];
  sig.SignatureAlgorithms = signatures as SignedXml['SignatureAlgorithms'];
}
