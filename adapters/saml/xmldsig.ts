/**
 * The XML-DSig algorithms the SAML adapters accept, as one table (never a switch):
 *
 * - SignatureMethod: the `hsm/` registry rows (RSA PKCS#1 v1.5 and PSS with SHA-256, ECDSA P-256/P-384,
 *   Ed25519), plus verify-only rows for what eIDAS nodes also sign with and we never sign with
 *   (RSA-PSS SHA-384/512 with MGF1 of the same hash and a salt of the hash length, ECDSA SHA-512).
 *   Every SHA-1 and HMAC URI is absent, so it is refused (`SAML_ALG_NOT_ALLOWED`).
 * - Each IdP narrows the table with its own allow-list (the eIDAS profile: PSS and ECDSA only).
 * - DigestMethod: SHA-256, SHA-384, SHA-512 only.
 * - xml-crypto's own algorithm maps are replaced by these classes on every `SignedXml` we create; the
 *   verify classes are xml-crypto's "custom signature-algorithm classes" for PSS and ECDSA (raw r‖s read
 *   with `dsaEncoding: 'ieee-p1363'`).
 */
import { constants, createHash, createPublicKey, verify, type KeyLike, type KeyObject } from 'node:crypto';
import type { SignedXml } from 'xml-crypto';
import { XML_DSIG_ALGORITHMS } from '../../hsm/algorithms.ts';

type Callback<T> = (error: Error | null, value?: T) => void;

/** One accepted SignatureMethod: its URI, family, hash and how Node verifies it. */
export interface SignatureMethodRow {
  readonly uri: string;
  readonly family: 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa' | 'eddsa';
  /** Node hash name; `null` for PureEdDSA. */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  readonly nodeVerify: { readonly padding?: number; readonly saltLength?: number; readonly dsaEncoding?: 'ieee-p1363' };
}

const MORE_2001 = 'http://www.w3.org/2001/04/xmldsig-more#';
const MORE_2007 = 'http://www.w3.org/2007/05/xmldsig-more#';

function familyOf(padding: number | undefined, dsa: boolean, hash: string | null): SignatureMethodRow['family'] {
  if (hash === null) return 'eddsa';
  if (dsa) return 'ecdsa';
  return padding === constants.RSA_PKCS1_PSS_PADDING ? 'rsa-pss' : 'rsa-pkcs1';
}

/** Every SignatureMethod any IdP may be allowed: the registry rows, then the verify-only ones. */
export const SIGNATURE_METHODS: readonly SignatureMethodRow[] = Object.freeze([
  ...XML_DSIG_ALGORITHMS.map((row) => ({
    uri: row.xmlDsig.signatureMethod,
    family: familyOf(row.nodeVerify.padding, row.nodeVerify.dsaEncoding !== undefined, row.hash),
    hash: row.hash,
    nodeVerify: row.nodeVerify,
  })),
  {
    uri: `${MORE_2007}sha384-rsa-MGF1`,
    family: 'rsa-pss',
    hash: 'sha384',
    nodeVerify: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
  },
  {
    uri: `${MORE_2007}sha512-rsa-MGF1`,
    family: 'rsa-pss',
    hash: 'sha512',
    nodeVerify: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
  },
  { uri: `${MORE_2001}ecdsa-sha512`, family: 'ecdsa', hash: 'sha512', nodeVerify: { dsaEncoding: 'ieee-p1363' } },
] satisfies SignatureMethodRow[]);

/** The eIDAS profile's SignatureMethods (EID-C1): RSA-PSS and ECDSA with SHA-256 or more. */
export const EIDAS_SIGNATURE_METHODS: readonly string[] = SIGNATURE_METHODS.filter(
  (row) => row.family === 'rsa-pss' || row.family === 'ecdsa',
).map((row) => row.uri);

/** What a legacy IdP may use unless its configuration narrows it: every row above. */
export const DEFAULT_SIGNATURE_METHODS: readonly string[] = SIGNATURE_METHODS.map((row) => row.uri);

const DIGESTS: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};

/** The Node hash name of an allowed DigestMethod; throws for any other URI (there is no default). */
export function digestHashOf(uri: string): 'sha256' | 'sha384' | 'sha512' {
  if (!Object.hasOwn(DIGESTS, uri)) throw new Error(`DigestMethod ${uri} is not allowed`);
  return DIGESTS[uri]!;
}

/** True when `uri` is an allowed DigestMethod. */
export function isAllowedDigest(uri: string): boolean {
  return Object.hasOwn(DIGESTS, uri);
}

/**
 * The row of an allowed SignatureMethod, or undefined when the URI is not in the table or not in
 * `allowList` (the IdP's own list). The list is always the caller's: there is no default to fall back on.
 */
export function allowedSignatureMethod(uri: string, allowList: readonly string[]): SignatureMethodRow | undefined {
  if (!allowList.includes(uri)) return undefined;
  return SIGNATURE_METHODS.find((row) => row.uri === uri);
}

function hashClass(uri: string, hash: string) {
  return class {
    getAlgorithmName = (): string => uri;
    getHash = (xml: string): string => createHash(hash).update(xml, 'utf8').digest('base64');
  };
}

/** Most certificates whose parsed key is kept (an IdP's metadata lists a few; a new version, new PEMs). */
const KEY_CACHE_SIZE = 256;
const parsedKeys = new Map<string, KeyObject>();

/**
 * The public key of a metadata certificate (PEM), parsed once per certificate rather than at every
 * signature check: the certificates come from the IdP's metadata, the same PEM for every login until the
 * metadata changes. The oldest entries go first when more than {@link KEY_CACHE_SIZE} are held.
 *
 * @example
 * publicKeyOf(pem) === publicKeyOf(pem) // the same KeyObject
 */
export function publicKeyOf(key: KeyLike): KeyObject {
  if (typeof key !== 'string' && !Buffer.isBuffer(key)) return createPublicKey(key);
  const id = typeof key === 'string' ? key : key.toString('latin1');
  let parsed = parsedKeys.get(id);
  if (!parsed) {
    parsed = createPublicKey(key);
    if (parsedKeys.size >= KEY_CACHE_SIZE) parsedKeys.delete(parsedKeys.keys().next().value!);
    parsedKeys.set(id, parsed);
  }
  return parsed;
}

/** A verify-only SignatureMethod class for one row (signing goes through `sign-xml.ts` and the HSM). */
function verifyClass(row: SignatureMethodRow) {
  return class {
    getAlgorithmName = (): string => row.uri;
    getSignature = (): never => {
      throw new Error('verification-only algorithm');
    };
    verifySignature = (
      material: string,
      key: KeyLike,
      signatureValue: string,
      callback?: Callback<boolean>,
    ): boolean => {
      const ok = verify(
        row.hash,
        Buffer.from(material, 'utf8'),
        { key: publicKeyOf(key), ...row.nodeVerify },
        Buffer.from(signatureValue, 'base64'),
      );
      callback?.(null, ok);
      return ok;
    };
  };
}

/**
 * Replaces a `SignedXml`'s algorithm maps with the allow-lists above (narrowed to `allowList`, which every
 * caller gives: a forgotten list is a type error, never "every algorithm").
 *
 * @example
 * const sig = new SignedXml({ publicCert }); restrictAlgorithms(sig, EIDAS_SIGNATURE_METHODS);
 */
export function restrictAlgorithms(sig: SignedXml, allowList: readonly string[]): void {
  // fresh maps for each SignedXml (it may be changed by whoever holds it); the classes are made once
  const hashes: Record<string, unknown> = {};
  for (const [uri, hashClass] of HASH_CLASSES) hashes[uri] = hashClass;
  const signatures: Record<string, unknown> = {};
  for (const [row, verifier] of VERIFY_CLASSES) if (allowList.includes(row.uri)) signatures[row.uri] = verifier;
  sig.HashAlgorithms = hashes as SignedXml['HashAlgorithms'];
  sig.SignatureAlgorithms = signatures as SignedXml['SignatureAlgorithms'];
}

const HASH_CLASSES = Object.entries(DIGESTS).map(([uri, hash]) => [uri, hashClass(uri, hash)] as const);
const VERIFY_CLASSES = SIGNATURE_METHODS.map((row) => [row, verifyClass(row)] as const);
