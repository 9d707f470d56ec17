/**
 * THE algorithm registry. One row per signature algorithm joins every name it has: the JOSE `alg`, the
 * XML-DSig SignatureMethod and DigestMethod URIs, the Node hash, the PKCS#11 mechanism (and whether we hash
 * in process first), the key to generate, and how Node and WebCrypto verify it.
 *
 * - A name is resolved once into its row and the row is passed down; an unknown name throws
 *   `HSM_ALG_UNKNOWN`. There is no default and no fallback.
 * - SHA-1 appears nowhere.
 * - Two custodies: `token` rows sign inside the PKCS#11 token; the one `process` row (ML-DSA-65,
 *   `experimental: true`) signs in process with a key stored wrapped under the token's KEK (`hsm/pq/`),
 *   has no PKCS#11 mechanism and no XML-DSig URI (none is standardised), and is generated or activated
 *   only with an explicit acknowledgement (`HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED`).
 */
import { constants } from 'node:crypto';
import { HsmError } from './errors.ts';
import {
  CKG_MGF1_SHA256,
  CKK_EC,
  CKK_EC_EDWARDS,
  CKK_RSA,
  CKM_EC_EDWARDS_KEY_PAIR_GEN,
  CKM_EC_KEY_PAIR_GEN,
  CKM_ECDSA,
  CKM_EDDSA,
  CKM_RSA_PKCS_KEY_PAIR_GEN,
  CKM_SHA256,
  CKM_SHA256_RSA_PKCS,
  CKM_SHA256_RSA_PKCS_PSS,
} from './pkcs11-numbers.ts';

/** Names of the rows signed inside the token. */
export type TokenAlgorithmName = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';
/** Names of the experimental rows signed in process (key wrapped under the KEK). */
export type ProcessAlgorithmName = 'ML-DSA-65';
/** Registry names; each is also the JOSE `alg`. */
export type AlgorithmName = TokenAlgorithmName | ProcessAlgorithmName;

/** The key an algorithm signs with, and how to generate it on the token. */
export type KeySpec =
  | {
      readonly kty: 'RSA';
      readonly keyType: number;
      readonly generation: number;
      readonly modulusBits: 3072;
      readonly publicExponent: 65537;
    }
  | { readonly kty: 'EC'; readonly keyType: number; readonly generation: number; readonly crv: 'P-256' | 'P-384' }
  | { readonly kty: 'OKP'; readonly keyType: number; readonly generation: number; readonly crv: 'Ed25519' };

/** A row signed inside the PKCS#11 token. */
export interface TokenAlgorithmRow {
  /** Registry name = JOSE `alg` (RFC 7518 / RFC 8037). */
  readonly name: TokenAlgorithmName;
  readonly custody: 'token';
  readonly experimental: false;
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
  readonly webCrypto: {
    readonly name: string;
    readonly hash?: string;
    readonly saltLength?: number;
    readonly namedCurve?: string;
  };
}

/**
 * An experimental row signed in process: no PKCS#11 mechanism (no token we target holds the key), no
 * XML-DSig URI (none is standardised), `experimental: true` (generation and activation need an
 * acknowledgement).
 */
export interface ProcessAlgorithmRow {
  /** Registry name = JOSE `alg` (ML-DSA for JOSE, RFC 9964 / draft-ietf-cose-dilithium). */
  readonly name: ProcessAlgorithmName;
  readonly custody: 'process';
  readonly experimental: true;
  readonly xmlDsig: null;
  /** Why there is no XML-DSig row (tests that iterate XML-DSig skip the row with this reason). */
  readonly xmlDsigAbsent: string;
  /** Pure ML-DSA: no pre-hash. */
  readonly hash: null;
  readonly pkcs11: null;
  /** Node `generateKeyPairSync` type; the JWK is `kty: 'AKP'` with the 32-byte seed as `priv`. */
  readonly key: { readonly kty: 'AKP'; readonly nodeType: 'ml-dsa-65' };
  readonly signatureLength: number;
  readonly nodeVerify: {
    readonly padding?: undefined;
    readonly saltLength?: undefined;
    readonly dsaEncoding?: undefined;
  };
  readonly webCrypto: {
    readonly name: string;
    readonly hash?: undefined;
    readonly saltLength?: undefined;
    readonly namedCurve?: undefined;
  };
}

/** Any registry row; branch on `custody` (or `xmlDsig`/`pkcs11` being null) before using token-only fields. */
export type AlgorithmRow = TokenAlgorithmRow | ProcessAlgorithmRow;
/** A row that has an XML-DSig SignatureMethod. */
export type XmlDsigAlgorithmRow = TokenAlgorithmRow;

const SHA256_DIGEST = 'http://www.w3.org/2001/04/xmlenc#sha256';
const SHA384_DIGEST = 'http://www.w3.org/2001/04/xmldsig-more#sha384';
const RSA_3072 = {
  kty: 'RSA',
  keyType: CKK_RSA,
  generation: CKM_RSA_PKCS_KEY_PAIR_GEN,
  modulusBits: 3072,
  publicExponent: 65537,
} as const;

/** Every algorithm we sign with, in registry order. Tests iterate this list. */
export const ALGORITHMS: readonly AlgorithmRow[] = Object.freeze([
  {
    name: 'RS256',
    custody: 'token',
    experimental: false,
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
    custody: 'token',
    experimental: false,
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
    custody: 'token',
    experimental: false,
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
    custody: 'token',
    experimental: false,
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
    custody: 'token',
    experimental: false,
    xmlDsig: { signatureMethod: 'http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519', digestMethod: SHA256_DIGEST },
    hash: null,
    pkcs11: { mechanism: CKM_EDDSA, hashInProcess: false },
    key: { kty: 'OKP', keyType: CKK_EC_EDWARDS, generation: CKM_EC_EDWARDS_KEY_PAIR_GEN, crv: 'Ed25519' },
    signatureLength: 64,
    nodeVerify: {},
    webCrypto: { name: 'Ed25519' },
  },
  {
    name: 'ML-DSA-65',
    custody: 'process',
    experimental: true,
    xmlDsig: null,
    xmlDsigAbsent:
      'no XML-DSig SignatureMethod URI is standardised for ML-DSA (RFC 9231 and the W3C XML Signature specs define none)',
    hash: null,
    pkcs11: null,
    key: { kty: 'AKP', nodeType: 'ml-dsa-65' },
    signatureLength: 3309,
    nodeVerify: {},
    webCrypto: { name: 'ML-DSA-65' },
  },
] satisfies AlgorithmRow[]);

/** The rows that sign inside the token, in registry order. */
export const TOKEN_ALGORITHMS: readonly TokenAlgorithmRow[] = Object.freeze(
  ALGORITHMS.filter((row): row is TokenAlgorithmRow => row.custody === 'token'),
);
/** The rows that have an XML-DSig SignatureMethod (SAML signing and verification iterate these). */
export const XML_DSIG_ALGORITHMS: readonly XmlDsigAlgorithmRow[] = TOKEN_ALGORITHMS;

const byName = new Map<string, AlgorithmRow>(ALGORITHMS.map((row) => [row.name, row]));
const byXmlDsigUri = new Map<string, XmlDsigAlgorithmRow>(
  XML_DSIG_ALGORITHMS.map((row) => [row.xmlDsig.signatureMethod, row]),
);

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
export function algorithm(name: TokenAlgorithmName): TokenAlgorithmRow;
export function algorithm(name: string): AlgorithmRow;
export function algorithm(name: string): AlgorithmRow {
  const row = byName.get(name);
  if (!row)
    throw new HsmError('HSM_ALG_UNKNOWN', 'unknown signature algorithm', { detail: `alg=${JSON.stringify(name)}` });
  return row;
}

/**
 * The row of a JOSE `alg` that the token signs with.
 *
 * @throws HsmError `HSM_ALG_UNKNOWN` for an unknown name or a row signed in process (ML-DSA-65).
 * @example
 * ```ts
 * tokenAlgorithm('PS256').pkcs11.mechanism; // CKM_SHA256_RSA_PKCS_PSS
 * ```
 */
export function tokenAlgorithm(name: string): TokenAlgorithmRow {
  const row = algorithm(name);
  if (row.custody !== 'token')
    throw new HsmError('HSM_ALG_UNKNOWN', 'this algorithm has no PKCS#11 mechanism: its keys are not token keys', {
      detail: `alg=${row.name}`,
    });
  return row;
}

/**
 * The row of a JOSE `alg` that has an XML-DSig SignatureMethod (what SAML signing resolves).
 *
 * @throws HsmError `HSM_ALG_UNKNOWN` for an unknown name or a row without XML-DSig URI (ML-DSA-65).
 * @example
 * ```ts
 * xmlDsigAlgorithm(signer.alg).xmlDsig.signatureMethod;
 * ```
 */
export function xmlDsigAlgorithm(name: string): XmlDsigAlgorithmRow {
  const row = algorithm(name);
  if (row.xmlDsig === null)
    throw new HsmError('HSM_ALG_UNKNOWN', 'this algorithm has no XML-DSig SignatureMethod', {
      detail: `alg=${row.name}: ${row.xmlDsigAbsent}`,
    });
  return row;
}

/**
 * Refuses an experimental row unless acknowledged (configuration `acknowledgeExperimental`, CLI
 * `--ack-experimental`).
 *
 * @throws HsmError `HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED`
 * @example
 * ```ts
 * assertAcknowledged(algorithm('ML-DSA-65'), options.acknowledgeExperimental === true);
 * ```
 */
export function assertAcknowledged(row: AlgorithmRow, acknowledged: boolean): void {
  if (row.experimental && acknowledged !== true) {
    throw new HsmError(
      'HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED',
      `${row.name} is experimental: pass the acknowledgement to use it`,
      { detail: `alg=${row.name}` },
    );
  }
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
export function algorithmByXmlDsigUri(uri: string): XmlDsigAlgorithmRow {
  const row = byXmlDsigUri.get(uri);
  if (!row)
    throw new HsmError('HSM_ALG_UNKNOWN', 'unknown XML-DSig signature method', {
      detail: `uri=${JSON.stringify(uri)}`,
    });
  return row;
}
