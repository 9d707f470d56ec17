/**
 * A DPoP proof (RFC 9449) as an RP makes one: signed by `key` with `alg`, its public key in the header, for `htm`
 * `htu`, a fresh `jti`; bound to `accessToken` (`ath`) when given.
 *
 * @example
 * const key = await generateKeyPair('ES256');
 * headers.dpop = await dpopProof(key, 'ES256', 'GET', `${url}/me`, accessToken);
 */
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, SignJWT, type CryptoKey } from 'jose';

export type DpopKey = { privateKey: CryptoKey; publicKey: CryptoKey };

export async function dpopProof(
  key: DpopKey,
  alg: string,
  htm: string,
  htu: string,
  accessToken?: string,
): Promise<string> {
  const ath = accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {};
  return new SignJWT({ htm, htu, jti: randomUUID(), ...ath })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })
    .setIssuedAt()
    .sign(key.privateKey);
}
