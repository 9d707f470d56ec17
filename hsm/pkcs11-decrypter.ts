/**
 * The `Decrypter` seam: RSA-OAEP key transport inside the token (`CKM_RSA_PKCS_OAEP`), content
 * decryption (AES-GCM) in process. The SAML adapter calls it for EncryptedAssertion (its
 * `KeyTransportDecrypter` interface is satisfied structurally, so `hsm/` imports nothing of the adapter).
 *
 * - The private key is an RSA-3072 `saml_decryption` key: CKA_DECRYPT only, never sign, non-extractable.
 * - OAEP digest and MGF1 hash come from a table; anything else throws `HSM_ALG_UNKNOWN`. No label.
 * - SoftHSM 2.6.1 implements OAEP with SHA-1 only (SHA-1 for OAEP and MGF1; its security does not rest
 *   on collision resistance): OAEP-SHA256 fails there with `HSM_DECRYPT_FAILED` (CKR_ARGUMENTS_BAD). A
 *   production HSM must support CKM_RSA_PKCS_OAEP with CKM_SHA256 + CKG_MGF1_SHA256 (xmlenc11#rsa-oaep
 *   with mgf1sha256, JOSE RSA-OAEP-256) and CKM_SHA_1 + CKG_MGF1_SHA1 (xmlenc#rsa-oaep-mgf1p).
 */
import { createDecipheriv, type KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { HsmError } from './errors.ts';
import type { Pkcs11Signer } from './pkcs11-signer.ts';
import type { Pkcs11Token } from './pkcs11/token.ts';

export type OaepHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

const OAEP: Readonly<Record<OaepHash, { hashAlg: number; mgf: number }>> = Object.freeze({
  sha1: { hashAlg: pkcs11js.CKM_SHA_1, mgf: pkcs11js.CKG_MGF1_SHA1 },
  sha256: { hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256 },
  sha384: { hashAlg: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384 },
  sha512: { hashAlg: pkcs11js.CKM_SHA512, mgf: pkcs11js.CKG_MGF1_SHA512 },
});
const CKZ_DATA_SPECIFIED = 1;

/** What a caller needs to decrypt an encrypted message for one of our keys. */
export interface Decrypter {
  readonly kid: string;
  publicKey(): KeyObject;
  /** RSA-OAEP-decrypts a content-encryption key inside the token (no label). */
  unwrap(encryptedKey: Uint8Array, params: { oaepHash: OaepHash; mgf1Hash: OaepHash }): Promise<Uint8Array>;
}

function oaepRow(name: string): { hashAlg: number; mgf: number } {
  const row = Object.hasOwn(OAEP, name) ? OAEP[name as OaepHash] : undefined;
  if (!row) throw new HsmError('HSM_ALG_UNKNOWN', 'unknown OAEP hash', { detail: `hash=${JSON.stringify(name)}` });
  return row;
}

export class Pkcs11Decrypter implements Decrypter {
  readonly kid: string;
  readonly #token: Pkcs11Token;
  readonly #signer: Pkcs11Signer;

  constructor(token: Pkcs11Token, key: Pkcs11Signer) {
    this.#token = token;
    this.#signer = key;
    this.kid = key.kid;
  }

  publicKey(): KeyObject {
    return this.#signer.publicKey();
  }

  /**
   * @example
   * ```ts
   * const cek = await store.decrypter().unwrap(encryptedKey, { oaepHash: 'sha1', mgf1Hash: 'sha1' });
   * ```
   * @throws HsmError `HSM_ALG_UNKNOWN`, `HSM_DECRYPT_FAILED`
   */
  async unwrap(encryptedKey: Uint8Array, params: { oaepHash: OaepHash; mgf1Hash: OaepHash }): Promise<Uint8Array> {
    const { hashAlg } = oaepRow(params.oaepHash);
    const { mgf } = oaepRow(params.mgf1Hash);
    const mechanism = {
      mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
      parameter: { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg, mgf, source: CKZ_DATA_SPECIFIED } as pkcs11js.RsaOAEP,
    };
    const bytes = Buffer.from(encryptedKey.buffer, encryptedKey.byteOffset, encryptedKey.byteLength);
    return this.#token.decrypt(this.#signer.tokenKey(), mechanism, bytes, 512);
  }
}

/**
 * AES-GCM content decryption in process (XML-Enc 1.1 layout: IV(12) ‖ ciphertext ‖ tag(16)).
 *
 * @throws HsmError `HSM_DECRYPT_FAILED` for a wrong key length or a tag that does not verify.
 */
export function decryptAesGcm(key: Uint8Array, ivCiphertextTag: Uint8Array, aad?: Uint8Array): Buffer {
  const cipher = ({ 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' } as const)[key.length as 16 | 24 | 32];
  if (!cipher || ivCiphertextTag.length < 28)
    throw new HsmError('HSM_DECRYPT_FAILED', 'bad AES-GCM key or message length');
  const all = Buffer.from(ivCiphertextTag);
  try {
    const decipher = createDecipheriv(cipher, key, all.subarray(0, 12));
    decipher.setAuthTag(all.subarray(all.length - 16));
    if (aad) decipher.setAAD(aad);
    return Buffer.concat([decipher.update(all.subarray(12, all.length - 16)), decipher.final()]);
  } catch (error) {
    throw new HsmError('HSM_DECRYPT_FAILED', 'AES-GCM authentication failed', { cause: error });
  }
}
