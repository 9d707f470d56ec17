/**
 * A DPoP proof (RFC 9449) as an RP makes one: signed by `key` with `alg`, its public key in the header, for `htm`
 * `htu`, a fresh `jti`; bound to `accessToken` (`ath`) and carrying the server's `nonce` when given.
 * `withDpopNonce` sends a request as a careful client does: once, and once more with the nonce the server asks for.
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
  nonce?: string,
): Promise<string> {
  const ath = accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {};
  return new SignJWT({ htm, htu, jti: randomUUID(), ...ath, ...(nonce === undefined ? {} : { nonce }) })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })
    .setIssuedAt()
    .sign(key.privateKey);
}

/** The nonce a DPoP-protected endpoint asked for (`use_dpop_nonce` with a `DPoP-Nonce` header, RFC 9449 §8), if it did. */
export async function askedNonce(response: Response): Promise<string | undefined> {
  const nonce = response.headers.get('dpop-nonce');
  if (nonce === null || (response.status !== 400 && response.status !== 401)) return undefined;
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (challenge.includes('use_dpop_nonce')) return nonce;
  const body = (await response
    .clone()
    .json()
    .catch(() => ({}))) as { error?: string };
  return body.error === 'use_dpop_nonce' ? nonce : undefined;
}

/**
 * Sends `send(nonce)` (its proof made with that nonce); when the server asks for a DPoP nonce, once more with it,
 * as openid-client does.
 *
 * @example
 * const answer = await withDpopNonce((nonce) => fetch(tokenUrl, { method: 'POST', headers: { dpop: await proofWith(nonce) }, body }));
 */
export async function withDpopNonce(send: (nonce?: string) => Promise<Response>): Promise<Response> {
  const first = await send();
  const nonce = await askedNonce(first);
  if (nonce === undefined) return first;
  await first.body?.cancel();
  return send(nonce);
}
