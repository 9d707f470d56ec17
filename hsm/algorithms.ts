/**
 * THE algorithm registry. One row per signature algorithm joins every name it has: the JOSE `alg`, the
 * XML-DSig SignatureMethod and DigestMethod URIs, the Node hash, the PKCS#11 mechanism (and whether we hash
 * in process first), the key to generate, and how Node and WebCrypto verify it.
 *
 * - A name is resolved once into its row and the row is passed down; an unknown name throws
 *   `HSM_ALG_UNKNOWN`. There is no default and no fallback.
 * - SHA-1 appears nowhere.
 */
import { constants } from 'node:crypto';
import { HsmError } from './errors.ts';
import {
  CKG_MGF1_SHA256, CKK_EC, CKK_EC_EDWARDS, CKK_RSA, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EC_KEY_PAIR_GEN, CKM_ECDSA,
  CKM_EDDSA, CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_SHA256, CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS,
} from './pkcs11/numbers.ts';

/** Registry names; each is also the JOSE `alg`. */
export type AlgorithmName = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

/** The key an algorithm signs with, and how to generate it on the token. */
export type KeySpec =
  | { readonly kty: 'RSA'; readonly keyType: number; readonly generation: number; readonly modulusBits: 3072; readonly publicExponent: 65537 }
  | { readonly kty: 'EC'; readonly keyType: number; readonly generation: number; readonly crv: 'P-256' | 'P-384' }
  | { readonly kty: 'OKP'; readonly keyType: number; readonly generation: number; readonly crv: 'Ed25519' };

export interface AlgorithmRow {
  /** Registry name = JOSE `alg` (RFC 7518 / RFC 8037). */
  readonly name: AlgorithmName;
  readonly xmlDsig: {
    /** ds:SignatureMethod Algorithm (RFC 6931, RFC 9231). */
    readonly signatureMethod: string;
    /** ds:DigestMethod Algorithm for the references of a signature made with this row. */
    readonly digestMethod: string;
  };
  /** Node hash name of the digest inside the signature; `null` for PureEdDSA (no pre-hash). */
  readonly hash: 'sha256' | 'sha384' | null;
  readonly pkcs11: {
    readonly mechanism: number;
    /** True when Node hashes and the token signs the digest (`CKM_ECDSA`). */
    readonly hashInProcess: boolean;
    /** CK_RSA_PKCS_PSS_PARAMS for PSS mechanisms. */
    readonly pss?: { readonly hashAlg: number; readonly mgf: number; readonly saltLength: number };
  };
  readonly key: KeySpec;
  /** Signature length in bytes (ECDSA: raw r‖s). */
  readonly signatureLength: number;
  /** Arguments for `crypto.verify(hash, data, { key, ...options }, signature)`. */
  readonly nodeVerify: { readonly padding?: number; readonly saltLength?: number; readonly dsaEncoding?: 'ieee-p1363' };
  /** WebCrypto algorithm of the signature (used by @peculiar/x509 for certificates). */
  readonly webCrypto: { readonly name: string; readonly hash?: string; readonly saltLength?: number; readonly namedCurve?: string };
}

const SHA256_DIGEST = 'http://www.w3.org/2001/04/xmlenc#sha256';
const SHA384_DIGEST = 'http://www.w3.org/2001/04/xmldsig-more#sha384';
const RSA_3072 = { kty: 'RSA', keyType: CKK_RSA, generation: CKM_RSA_PKCS_KEY_PAIR_GEN, modulusBits: 3072, publicExponent: 65537 } as const;

/** Every algorithm we sign with, in registry order. Tests iterate this list. */
export const ALGORITHMS: readonly AlgorithmRow[] = Object.freeze([
  {
    name: 'RS256',
    xmlDsig: { signatureMethod: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', digestMethod: SHA256_DIGEST },
    hash: 'sha256',
    pkcs11: { mechanism: CKM_SHA256_RSA_PKCS, hashInProcess: false },
    key: RSA_3072,
    signatureLength: 384,
    nodeVerify: { padding: constants.RSA_PKCS1_PADDING },
    webCrypto: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  },
  {
    name: 'PS256',
    xmlDsig: { signatureMethod: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1', digestMethod: SHA256_DIGEST },
    hash: 'sha256',
    pkcs11: {
      mechanism: CKM_SHA256_RSA_PKCS_PSS,
      hashInProcess: false,
      pss: { hashAlg: CKM_SHA256, mgf: CKG_MGF1_SHA256, saltLength: 32 },
    },
    key: RSA_3072,
    signatureLength: 384,
    nodeVerify: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    webCrypto: { name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 },
  },
  {
    name: 'ES256',
    xmlDsig: { signatureMethod: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', digestMethod: SHA256_DIGEST },
    hash: 'sha256',
    pkcs11: { mechanism: CKM_ECDSA, hashInProcess: true },
    key: { kty: 'EC', keyType: CKK_EC, generation: CKM_EC_KEY_PAIR_GEN, crv: 'P-256' },
    signatureLength: 64,
    nodeVerify: { dsaEncoding: 'ieee-p1363' },
    webCrypto: { name: 'ECDSA', hash: 'SHA-256', namedCurve: 'P-256' },
  },
  {
    name: 'ES384',
    xmlDsig: { signatureMethod: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', digestMethod: SHA384_DIGEST },
    hash: 'sha384',
    pkcs11: { mechanism: CKM_ECDSA, hashInProcess: true },
    key: { kty: 'EC', keyType: CKK_EC, generation: CKM_EC_KEY_PAIR_GEN, crv: 'P-384' },
    signatureLength: 96,
    nodeVerify: { dsaEncoding: 'ieee-p1363' },
    webCrypto: { name: 'ECDSA', hash: 'SHA-384', namedCurve: 'P-384' },
  },
  {
    name: 'EdDSA',
    xmlDsig: { signatureMethod: 'http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519', digestMethod: SHA256_DIGEST },
    hash: null,
    pkcs11: { mechanism: CKM_EDDSA, hashInProcess: false },
    key: { kty: 'OKP', keyType: CKK_EC_EDWARDS, generation: CKM_EC_EDWARDS_KEY_PAIR_GEN, crv: 'Ed25519' },
    signatureLength: 64,
    nodeVerify: {},
    webCrypto: { name: 'Ed25519' },
  },
] satisfies AlgorithmRow[]);

const byName = new Map<string, AlgorithmRow>(ALGORITHMS.map((row) => [row.name, row]));
const byXmlDsigUri = new Map<string, AlgorithmRow>(ALGORITHMS.map((row) => [row.xmlDsig.signatureMethod, row]));

/** True when `name` is a registry name. */
export function isAlgorithmName(name: string): name is AlgorithmName {
  return byName.has(name);
}

/**
 * The registry row of a JOSE `alg`.
 *
 * @throws HsmError `HSM_ALG_UNKNOWN` for any name not in the registry (including `none`, `HS256`, `RS1`).
 * @example
 * ```ts
 * const row = algorithm('ES256'); // row.xmlDsig.signatureMethod === '...#ecdsa-sha256'
 * ```
 */
export function algorithm(name: string): AlgorithmRow {
  const row = byName.get(name);
  if (!row) throw new HsmError('HSM_ALG_UNKNOWN', 'unknown signature algorithm', { detail: `alg=${JSON.stringify(name)}` });
  return row;
}

/**
 * The registry row of an XML-DSig SignatureMethod URI.
 *
 * @throws HsmError `HSM_ALG_UNKNOWN` for any URI not in the registry (including every SHA-1 URI).
 * @example
 * ```ts
 * algorithmByXmlDsigUri('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256').name; // 'RS256'
 * ```
 */
export function algorithmByXmlDsigUri(uri: string): AlgorithmRow {
  const row = byXmlDsigUri.get(uri);
  if (!row) throw new HsmError('HSM_ALG_UNKNOWN', 'unknown XML-DSig signature method', { detail: `uri=${JSON.stringify(uri)}` });
  return row;
}
