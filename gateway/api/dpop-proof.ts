/**
 * A DPoP proof (RFC 9449 §4.3) presented to a resource route of the gateway's own (the signed risk assessment),
 * checked as oidc-provider checks one at userinfo: a JWT of `typ` `dpop+jwt`, signed by the public key in its header
 * with one of the accepted algorithms, for this method and URL (`htm`, `htu` without query or fragment), bound to the
 * access token presented with it (`ath`), with a `jti`. Its freshness: the gateway's DPoP nonce when it carries one
 * (oidc/dpop-nonces.ts: the nonces the token endpoint hands out, which openid-client then puts in every proof to the
 * issuer's origin; an unknown or stale one is refused asking for a new one, `useNonce`), else an `iat` within five
 * minutes of now (±300 s). Its key's RFC 7638 thumbprint is what the access token's `jkt` must be. Single use is
 * the caller's (by `jti`).
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';

/** How far a proof's `iat` may be from now (oidc-provider's window at userinfo). */
const IAT_WINDOW_SECONDS = 300;

/** A proof refused, and why (logged, never sent); `useNonce`: its nonce is unknown or stale (RFC 9449 §9). */
export class DpopProofRefused extends Error {
  override readonly name = 'DpopProofRefused';
  readonly useNonce: boolean;
  /**
   * The refusal is a step of the protocol, not a failure: the proof carried a nonce the gateway handed out, gone
   * stale (an RP's cached nonce). A made-up nonce, or an old proof without one, is no such step.
   */
  readonly protocolStep: boolean;
  constructor(message: string, options: { cause?: unknown; useNonce?: boolean; protocolStep?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.useNonce = options.useNonce ?? false;
    this.protocolStep = options.protocolStep ?? false;
  }
}

/** The nonces a proof may carry (oidc/dpop-nonces.ts `DpopNonceChecker`). */
export interface ProofNonces {
  check(nonce: string): boolean;
  /** Whether the gateway handed this nonce out lately, stale or not (oidc/dpop-nonces.ts). */
  issuedRecently(nonce: string): boolean;
}

export interface VerifiedProof {
  thumbprint: string;
  jti: string;
  iat: number;
  /** The gateway's nonce it carried, if any (checked). */
  nonce?: string;
}

/**
 * Verifies `proof` for the request `request` carrying `accessToken`.
 *
 * @throws DpopProofRefused when it is not a proof of this request
 * @example
 * const { thumbprint, jti } = await verifyDpopProof(ctx.get('DPoP'), { method: 'GET', url, accessToken, algorithms, nonces });
 */
export async function verifyDpopProof(
  proof: string,
  request: { method: string; url: string; accessToken: string; algorithms: readonly string[]; nonces: ProofNonces },
): Promise<VerifiedProof> {
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, { algorithms: [...request.algorithms], typ: 'dpop+jwt' });
  } catch (cause) {
    throw new DpopProofRefused('not a DPoP proof signed by the key in its header', { cause });
  }
  const { payload, protectedHeader } = verified;
  // oidc-provider's order (validate_dpop.js): the proof's own checks, then its nonce, which stands for the time
  // when it carries one (RFC 9449 §4.3); an empty nonce is none, a proof too old asks for one
  if (typeof payload.iat !== 'number' || payload.iat === 0) throw new DpopProofRefused('iat missing');
  if (typeof payload.jti !== 'string' || payload.jti === '') throw new DpopProofRefused('no jti');
  if (payload.nonce !== undefined && typeof payload.nonce !== 'string')
    throw new DpopProofRefused('nonce not a string');
  const nonce = payload.nonce === '' ? undefined : payload.nonce;
  if (nonce === undefined && Math.abs(Date.now() / 1000 - payload.iat) > IAT_WINDOW_SECONDS)
    throw new DpopProofRefused('iat not recent', { useNonce: true });
  if (payload.htm !== request.method) throw new DpopProofRefused('htm mismatch');
  const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
  if (htu) {
    htu.search = '';
    htu.hash = '';
  }
  if (htu?.href !== new URL(request.url).href) throw new DpopProofRefused('htu mismatch');
  if (payload.ath !== createHash('sha256').update(request.accessToken).digest('base64url'))
    throw new DpopProofRefused('ath mismatch');
  if (nonce !== undefined && !request.nonces.check(nonce))
    throw new DpopProofRefused('nonce unknown or stale', {
      useNonce: true,
      protocolStep: request.nonces.issuedRecently(nonce),
    });
  return {
    thumbprint: await calculateJwkThumbprint(protectedHeader.jwk!),
    jti: payload.jti,
    iat: payload.iat,
    ...(nonce === undefined ? {} : { nonce }),
  };
}
