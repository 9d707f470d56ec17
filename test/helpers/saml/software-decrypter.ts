/**
 * A `KeyTransportDecrypter` over a software RSA key, for adapter tests that are not about the HSM.
 * The gateway itself unwraps in the HSM (`hsm/` decrypter); this one exists so that adapter tests can
 * exercise every refused shape without a decryption-capable token key.
 */
import { constants, generateKeyPairSync, privateDecrypt, type KeyObject } from 'node:crypto';
import type { KeyTransportDecrypter } from '../../../adapters/saml/xmlenc/decrypter.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import { createPublicKey, sign } from 'node:crypto';

/** A fresh RSA-3072 decryption key with a self-signed certificate. */
export async function softwareDecrypter(): Promise<KeyTransportDecrypter & { privateKey: KeyObject }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const certificatePem = await selfSignedCertificate(
    {
      kid: 'sp-decryption',
      alg: 'RS256',
      purpose: 'saml_decryption',
      publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e, kid: 'sp-decryption', alg: 'RS256', use: 'enc' },
      publicKey: () => publicKey,
      sign: async (data) => new Uint8Array(sign('sha256', data, privateKey)),
    },
    { subject: 'CN=gateway SAML decryption (test)', days: 2 },
  );
  return {
    privateKey,
    certificatePem,
    async unwrap(encryptedKey, params) {
      if (params.oaepHash !== params.mgf1Hash) throw new Error('Node OAEP uses one hash for the label and MGF1');
      return new Uint8Array(
        privateDecrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: params.oaepHash },
          encryptedKey,
        ),
      );
    },
  };
}
