/**
 * A DPoP proof (RFC 9449 §4.3) presented to a resource route of the gateway's own (the signed risk assessment),
 * checked as oidc-provider checks one at userinfo: a JWT of `typ` `dpop+jwt`, signed by the public key in its header
 * with one of the accepted algorithms, for this method and URL (`htm`, `htu` without query or fragment), bound to the
 * access token presented with it (`ath`), issued within five minutes of now (`iat`, ±300 s), with a `jti` and no
 * `nonce`. Its key's RFC 7638 thumbprint is what the access token's `jkt` must be. Single use is the caller's (by
 * `jti`).
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';

/** How far a proof's `iat` may be from now (oidc-provider's window at userinfo). */
const IAT_WINDOW_SECONDS = 300;

/** A proof refused, and why (logged, never sent). */
export class DpopProofRefused extends Error {
  override readonly name = 'DpopProofRefused';
}

export interface VerifiedProof {
  thumbprint: string;
  jti: string;
  iat: number;
}

/**
 * Verifies `proof` for the request `request` carrying `accessToken`.
 *
 * @throws DpopProofRefused when it is not a proof of this request
 * @example
 * const { thumbprint, jti } = await verifyDpopProof(ctx.get('DPoP'), { method: 'GET', url, accessToken, algorithms });
 */
export async function verifyDpopProof(
  proof: string,
  request: { method: string; url: string; accessToken: string; algorithms: readonly string[] },
): Promise<VerifiedProof> {
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, { algorithms: [...request.algorithms], typ: 'dpop+jwt' });
  } catch (cause) {
    throw new DpopProofRefused('not a DPoP proof signed by the key in its header', { cause });
  }
  const { payload, protectedHeader } = verified;
  if (typeof payload.jti !== 'string' || payload.jti === '') throw new DpopProofRefused('no jti');
  // no DPoP nonces are handed out (oidc-provider refuses one too when they are not configured)
  if (payload.nonce !== undefined) throw new DpopProofRefused('a nonce, none being handed out');
  if (typeof payload.iat !== 'number' || Math.abs(Date.now() / 1000 - payload.iat) > IAT_WINDOW_SECONDS)
    throw new DpopProofRefused('iat missing or not recent');
  if (payload.htm !== request.method) throw new DpopProofRefused('htm mismatch');
  const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
  if (htu) {
    htu.search = '';
    htu.hash = '';
  }
  if (htu?.href !== new URL(request.url).href) throw new DpopProofRefused('htu mismatch');
  if (payload.ath !== createHash('sha256').update(request.accessToken).digest('base64url'))
    throw new DpopProofRefused('ath mismatch');
  return { thumbprint: await calculateJwkThumbprint(protectedHeader.jwk!), jti: payload.jti, iat: payload.iat };
}
