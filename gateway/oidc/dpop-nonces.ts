/**
 * DPoP server nonces (RFC 9449 §8), oidc-provider's `features.dPoP.nonceSecret` and `requireNonce`, and the same
 * nonces at the gateway's own resource route (the signed risk assessment, api/dpop-proof.ts). A nonce is stateless:
 * an HKDF of a 32-byte secret and the minute, as oidc-provider's `ServerChallenge` makes it (info `DPoP`), valid
 * about four minutes, so every worker and every instance with the same secret makes and accepts the same nonces
 * without a store. The secret is `secrets.dpopNonceKey` when set, else derived from `secrets.browserBindingKey`
 * with its own label (never the key itself). Instances that must accept each other's nonces share it; a change
 * makes each client ask once more (its cached nonce is refused with a new one).
 *
 * `dpop.nonce: required` (the default): at the token and PAR endpoints a proof without the gateway's nonce is
 * refused `use_dpop_nonce` with a `DPoP-Nonce` header (the client sends the request again with it; openid-client
 * does so by itself). A proof made in advance, by whoever held the client's DPoP key for a moment, is then
 * worthless once its nonce is stale. `offered`: the nonce is handed out and checked when a proof carries one; a
 * proof without one is held to the iat window (300 s either side). At userinfo and the risk assessment the nonce
 * is never required (a proof there is bound to one short-lived access token, `ath`), but one a proof carries is
 * checked, and a stale one answered `use_dpop_nonce` with a fresh nonce.
 */
import { hkdfSync, timingSafeEqual } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The oidc-provider routes where a required nonce is required (the authorization server's own). */
const NONCE_ROUTES: ReadonlySet<string> = new Set(['token', 'pushed_authorization_request']);

/** oidc-provider's `ServerChallenge` step and window: a nonce is the HKDF of its minute, good for steps −2…+2. */
const STEP_SECONDS = 60;
const INFO = 'DPoP';

/** The 32-byte nonce secret of a configuration (see the file comment). */
export function dpopNonceSecret(secrets: { browserBindingKey: string; dpopNonceKey?: string | undefined }): Buffer {
  if (secrets.dpopNonceKey !== undefined)
    return Buffer.from(hkdfSync('sha256', secrets.dpopNonceKey, '', 'gateway dpop nonce key v1', 32));
  return Buffer.from(hkdfSync('sha256', secrets.browserBindingKey, '', 'gateway dpop nonce v1', 32));
}

/** The nonces a resource route hands out and checks (the ones oidc-provider makes from the same secret). */
export interface DpopNonceChecker {
  /** The nonce to hand out now. */
  next(): string;
  /** Whether `nonce` is one of this secret's, and recent. */
  check(nonce: string): boolean;
  /**
   * Whether `nonce` is one this secret made in the last quarter of an hour (accepted or gone stale since): a
   * client that was handed it, not one that made it up.
   */
  issuedRecently(nonce: string): boolean;
}

function stepBytes(step: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(step));
  return bytes;
}

/**
 * @example
 * const nonces = dpopNonceChecker(dpopNonceSecret(config.secrets));
 * if (!nonces.check(payload.nonce)) ctx.set('DPoP-Nonce', nonces.next());
 */
export function dpopNonceChecker(secret: Buffer): DpopNonceChecker {
  const at = (step: number) => Buffer.from(hkdfSync('sha256', secret, stepBytes(step), INFO, 32)).toString('base64url');
  // steps −15…+2 of now, kept for the minute: the last five are the accepted window (oidc-provider's −2…+2)
  let cached: { step: number; values: string[] } | undefined;
  const steps = (): string[] => {
    const step = Math.floor(Date.now() / 1000 / STEP_SECONDS);
    if (cached?.step !== step) cached = { step, values: Array.from({ length: 18 }, (_, i) => at(step - 15 + i)) };
    return cached.values;
  };
  const among = (values: string[], nonce: string) => {
    const given = Buffer.from(nonce);
    let matched = false;
    for (const value of values) {
      const expected = Buffer.from(value);
      if (expected.length === given.length && timingSafeEqual(expected, given)) matched = true;
    }
    return matched;
  };
  return {
    next: () => steps()[16]!,
    check: (nonce) => among(steps().slice(13), nonce),
    issuedRecently: (nonce) => among(steps(), nonce),
  };
}

export interface DpopNonceFeature {
  nonceSecret: Buffer;
  requireNonce: (ctx: KoaContextWithOIDC) => boolean;
}

/**
 * @example
 * features.dPoP = { enabled: true, ...dpopNonces(config.dpop.nonce, dpopNonceSecret(config.secrets)) };
 */
export function dpopNonces(mode: 'required' | 'offered', nonceSecret: Buffer): DpopNonceFeature {
  return {
    nonceSecret,
    requireNonce: (ctx) => mode === 'required' && NONCE_ROUTES.has(String(ctx.oidc?.route)),
  };
}
