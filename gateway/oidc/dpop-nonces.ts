/**
 * DPoP server nonces (RFC 9449 §8), oidc-provider's `features.dPoP.nonceSecret` and `requireNonce`. The nonce is
 * stateless: an HKDF of a 32-byte secret and the minute (oidc-provider's `ServerChallenge`), valid about four
 * minutes, so every worker and every instance that shares `secrets.browserBindingKey` makes and accepts the same
 * nonces without a store. The secret is derived from that key with its own label, never the key itself.
 *
 * `dpop.nonce: required` (the default): at the token and PAR endpoints a proof without the gateway's nonce is
 * refused `use_dpop_nonce` with a `DPoP-Nonce` header (the client sends the request again with it; openid-client
 * does so by itself). A proof made in advance, by whoever held the client's DPoP key for a moment, is then
 * worthless once its nonce is stale. `offered`: the nonce is handed out and checked when a proof carries one;
 * a proof without one is held to oidc-provider's iat window (300 s either side). At userinfo the nonce is only
 * ever offered: a proof there is bound to one short-lived access token (`ath`).
 */
import { hkdfSync } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The oidc-provider routes where a required nonce is required (the authorization server's own). */
const NONCE_ROUTES: ReadonlySet<string> = new Set(['token', 'pushed_authorization_request']);

export interface DpopNonceFeature {
  nonceSecret: Buffer;
  requireNonce: (ctx: KoaContextWithOIDC) => boolean;
}

/**
 * @example
 * features.dPoP = { enabled: true, ...dpopNonces(config.dpop.nonce, config.secrets.browserBindingKey) };
 */
export function dpopNonces(mode: 'required' | 'offered', browserBindingKey: string): DpopNonceFeature {
  const nonceSecret = Buffer.from(hkdfSync('sha256', browserBindingKey, '', 'gateway dpop nonce v1', 32));
  return {
    nonceSecret,
    requireNonce: (ctx) => mode === 'required' && NONCE_ROUTES.has(String(ctx.oidc?.route)),
  };
}
