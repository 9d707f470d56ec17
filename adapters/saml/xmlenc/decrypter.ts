/**
 * The key-transport seam of SAML decryption: an EncryptedKey (RSA-OAEP) is unwrapped by our decryption
 * key, which lives in the HSM; the content (AES-GCM) is decrypted in process with the unwrapped key.
 *
 * `hsm/` owns the PKCS#11 side (CKM_RSA_PKCS_OAEP with CK_RSA_PKCS_OAEP_PARAMS). This interface is what
 * the adapters need of it, so nothing in `adapters/` touches PKCS#11. A failure must throw (any error):
 * the caller turns every unwrap failure into the one uniform `SAML_DECRYPTION_FAILED`.
 */

/** Hashes an RSA-OAEP EncryptedKey may name (digest of the label and of MGF1, separately). */
export type OaepHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface KeyTransportDecrypter {
  /** The certificate (PEM) of the decryption key, published in our SP metadata with use="encryption". */
  readonly certificatePem: string;
  /**
   * Decrypts an RSA-OAEP block with our private key (no label), returning the content-encryption key.
   *
   * @example
   * const cek = await decrypter.unwrap(encryptedKey, { oaepHash: 'sha1', mgf1Hash: 'sha1' });
   */
  unwrap(encryptedKey: Uint8Array, params: { oaepHash: OaepHash; mgf1Hash: OaepHash }): Promise<Uint8Array>;
}
