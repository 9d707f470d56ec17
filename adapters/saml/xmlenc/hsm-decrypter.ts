/**
 * The SAML decrypter of a deployment: the HSM's RSA-OAEP `Pkcs11Decrypter` for the active
 * `saml_decryption` key (the private key never leaves the token), with the certificate we publish for
 * it in our SP metadata.
 *
 * A decryption key cannot sign (CKA_DECRYPT only), so its certificate is issued by our active `saml`
 * signing key (subject and issuer name the gateway; the signature is the signing key's). IdPs use it as
 * a key container, as SAML metadata does.
 */
import type { KeyTransportDecrypter } from './decrypter.ts';
import type { Signer } from '../../../hsm/signer.ts';
import type { TokenKeyStore } from '../../../hsm/token-keystore.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';

/**
 * The HSM decrypter, or undefined when the token holds no `saml_decryption` key.
 *
 * @example
 * const decrypter = await hsmSamlDecrypter(tokens, keys.activeSigner('saml'), 'CN=gateway SAML decryption');
 */
export async function hsmSamlDecrypter(
  tokens: TokenKeyStore,
  issuer: Signer,
  subject: string,
): Promise<KeyTransportDecrypter | undefined> {
  if (tokens.activeSigners('saml_decryption').length === 0) return undefined;
  const decrypter = tokens.decrypter();
  const certificatePem = await selfSignedCertificate(
    {
      kid: issuer.kid,
      alg: issuer.alg,
      purpose: issuer.purpose,
      publicJwk: issuer.publicJwk,
      publicKey: () => decrypter.publicKey(),
      sign: (data) => issuer.sign(data),
    },
    { subject, days: 365 },
  );
  return { certificatePem, unwrap: (encryptedKey, params) => decrypter.unwrap(encryptedKey, params) };
}
