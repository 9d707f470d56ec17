/**
 * The XML-Encryption algorithms we decrypt, as tables (EIDAS-CRY-02, SAML-ENC-01/02):
 *
 * - Content: AES-GCM only (`xmlenc11#aes128-gcm`, `aes192-gcm`, `aes256-gcm`); 12-byte IV, 16-byte tag.
 *   AES-CBC, 3DES and everything else: `SAML_ENC_ALG_NOT_ALLOWED`.
 * - Key transport: RSA-OAEP, `xmlenc#rsa-oaep-mgf1p` (MGF1-SHA1, the eIDAS-Node default) and
 *   `xmlenc11#rsa-oaep` (MGF named by `xenc11:MGF`). OAEP hashes SHA-1..SHA-512: OAEP's security does not
 *   rest on SHA-1's collision resistance, eIDAS lists rsa-oaep-mgf1p, and SoftHSM 2.6 offers OAEP with
 *   SHA-1 only. RSA PKCS#1 v1.5 (`rsa-1_5`) is refused.
 * - Key agreement (`xmlenc11#ECDH-ES`, `xmlenc#dh`): not implemented, refused with
 *   `SAML_ENC_KEY_AGREEMENT_UNSUPPORTED` (it needs CKM_ECDH1_DERIVE + ConcatKDF + AES-KW in the HSM).
 * Every check here runs before any private-key operation.
 */
import type { OaepHash } from './decrypter.ts';

export interface ContentAlgorithm {
  readonly uri: string;
  readonly cipher: 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
  readonly keyBytes: 16 | 24 | 32;
}

const XENC = 'http://www.w3.org/2001/04/xmlenc#';
const XENC11 = 'http://www.w3.org/2009/xmlenc11#';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

export const CONTENT_ALGORITHMS: readonly ContentAlgorithm[] = Object.freeze([
  { uri: `${XENC11}aes128-gcm`, cipher: 'aes-128-gcm', keyBytes: 16 },
  { uri: `${XENC11}aes192-gcm`, cipher: 'aes-192-gcm', keyBytes: 24 },
  { uri: `${XENC11}aes256-gcm`, cipher: 'aes-256-gcm', keyBytes: 32 },
] satisfies ContentAlgorithm[]);

export const KEY_TRANSPORT = {
  rsaOaepMgf1p: `${XENC}rsa-oaep-mgf1p`,
  rsaOaep: `${XENC11}rsa-oaep`,
} as const;

/** Key agreement methods we recognise in order to refuse them with a clear code. */
export const KEY_AGREEMENT: readonly string[] = [`${XENC11}ECDH-ES`, `${XENC}dh`, `${XENC11}dh-es`];

/** OAEP DigestMethod URIs. */
export const OAEP_DIGESTS: Readonly<Record<string, OaepHash>> = {
  [`${DSIG}sha1`]: 'sha1',
  [`${XENC}sha256`]: 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  [`${XENC}sha512`]: 'sha512',
};

/** xenc11:MGF Algorithm URIs. */
export const MGF_ALGORITHMS: Readonly<Record<string, OaepHash>> = {
  [`${XENC11}mgf1sha1`]: 'sha1',
  [`${XENC11}mgf1sha256`]: 'sha256',
  [`${XENC11}mgf1sha384`]: 'sha384',
  [`${XENC11}mgf1sha512`]: 'sha512',
};

/** The content algorithm of `uri`, or undefined (refused). */
export function contentAlgorithm(uri: string): ContentAlgorithm | undefined {
  return CONTENT_ALGORITHMS.find((row) => row.uri === uri);
}

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;
