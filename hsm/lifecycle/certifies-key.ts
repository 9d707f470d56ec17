/**
 * Whether a stored certificate certifies a key: the certificate's public key is the key's (`kty`, and `crv`/`x`/`y`
 * or `n`/`e`). The lifecycle serves a key record's stored certificate only when it certifies the token's own key of
 * that kid: the database alone can put another key's certificate in the record (lifecycle-keystore.ts).
 */
import { X509Certificate } from 'node:crypto';
import type { JsonWebKeyPublic } from '../signer.ts';

const MATERIAL = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

/**
 * @example
 * certifiesKey(record.certificatePem, signer.publicJwk) // false for a certificate of another key, or no certificate
 */
export function certifiesKey(pem: string, key: Readonly<JsonWebKeyPublic>): boolean {
  try {
    const certified = new X509Certificate(pem).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    const own = key as unknown as Record<string, unknown>;
    return MATERIAL.every((member) => certified[member] === own[member]);
  } catch {
    return false;
  }
}
