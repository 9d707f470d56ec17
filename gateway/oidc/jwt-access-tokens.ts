/**
 * Access tokens as JWTs (RFC 9068, `typ: at+jwt`; issue #12 item 5), signed in the HSM with the client's
 * access-token key (`access-token-signers.ts`: the active `access_token` key of its
 * `access_token_signed_response_alg`, not the ID token's, published in the JWKS, so a data provider verifies them offline), carrying only
 * `sub` (pairwise, as the ID token), `acr`, `auth_time` (RFC 9068 §2.2.1), `fraud_score` and the registered claims `iss, aud, exp, iat, jti,
 * client_id, sid` (+ `cnf.jkt` when DPoP-bound). No scope, no identity claim.
 *
 * oidc-provider 9 issues JWT access tokens only for a resource server (and then never stores them, nor
 * accepts them at userinfo); here every access token keeps oidc-provider's stored model (the session store,
 * sealed, looked up by `jti`), and only its *value* becomes the JWT: `AccessToken.getValueAndPayload` is
 * wrapped. The stored payload records SHA-256 of the JWT (`atHash`); reading a token back
 * (`redis-adapter.ts` → `session/oidc-models.ts`) takes the `jti` out of the presented JWT and requires the
 * hash to match, so neither a forged JWT nor a bare `jti` is a token. The session guard runs at that read, after
 * that check (revoked session / stale version: userinfo 401, introspection `active: false`; a forged JWT naming a
 * known `jti` never reaches it, so it cannot end that token's grant).
 *
 * `aud` is the resource the token was issued for (RFC 8707) and otherwise the issuer (the gateway's own
 * userinfo endpoint is the only resource server of such a token).
 *
 * A client registered with `access_token_format: "opaque"` gets oidc-provider's own value instead (its random `jti`,
 * no signature: one HSM signature less per login; its resource servers introspect it, so a revoked session's token
 * is refused there at once), stored with its hash the same way: the same find checks it ({@link opaqueValue}).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Signer } from '../../hsm/signer.ts';
import { shedWhenBusy } from './hsm-busy.ts';
import { pairwiseSub } from './pairwise.ts';

type Model = {
  getValueAndPayload: () => Promise<{ value: string; payload: Record<string, unknown> }>;
  client?: { clientId: string; sectorIdentifier?: string };
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The wrapped `getValueAndPayload` of `provider.AccessToken`. */
export function issueJwtAccessTokens(
  provider: Provider,
  deps: {
    issuer: string;
    signer: (clientId: string) => Signer;
    pairwiseSalt: string;
    /** The clients registered for opaque access tokens (`access_token_format: "opaque"`). */
    opaqueFor: ReadonlySet<string>;
  },
): void {
  const prototype = provider.AccessToken.prototype as unknown as Model;
  const opaque = prototype.getValueAndPayload;
  prototype.getValueAndPayload = async function jwtValue(this: Model) {
    const { value: jti, payload } = await opaque.call(this);
    const client = this.client;
    if (!client || typeof payload.accountId !== 'string' || typeof payload.jti !== 'string')
      throw new TypeError('access token without client, account or jti');
    // oidc-provider's own value (its jti, random), stored with its hash as a JWT's is: found by the same check
    if (deps.opaqueFor.has(client.clientId)) return { value: jti, payload: { ...payload, atHash: hashOf(jti) } };
    const extra = (payload.extra ?? {}) as Record<string, unknown>;
    const claims: Record<string, unknown> = {
      iss: deps.issuer,
      sub: pairwiseSub(payload.accountId, String(client.sectorIdentifier ?? client.clientId), deps.pairwiseSalt),
      aud: payload.aud ?? deps.issuer,
      exp: payload.exp,
      iat: payload.iat,
      jti: payload.jti,
      client_id: client.clientId,
      ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}),
      ...(typeof extra.acr === 'string' ? { acr: extra.acr } : {}),
      ...(typeof extra.auth_time === 'number' ? { auth_time: extra.auth_time } : {}),
      ...(typeof extra.fraud_score === 'number' ? { fraud_score: extra.fraud_score } : {}),
      ...(typeof payload.jkt === 'string' ? { cnf: { jkt: payload.jkt } } : {}),
    };
    const signer = deps.signer(client.clientId);
    const input = `${b64({ alg: signer.alg, typ: 'at+jwt', kid: signer.kid })}.${b64(claims)}`;
    const signature = Buffer.from(
      await signer.sign(Buffer.from(input)).catch((error: unknown) => {
        throw shedWhenBusy(error); // HSM_BUSY: 503 temporarily_unavailable, never a 500 (hsm-busy.ts)
      }),
    ).toString('base64url');
    const value = `${input}.${signature}`;
    return { value, payload: { ...payload, atHash: hashOf(value) } };
  };
}

function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * oidc-provider refuses any JWT at introspection and revocation (`unsupported_token_type`: it never stores
 * its own JWT access tokens). Ours are stored: before oidc-provider reads the form, the `token` parameter of
 * such a request, when it is a JWT, is handed on with its dots as `~` (not a JWT any more for the library's
 * check; `jtiOfJwt` reads both spellings, and the issued-value check still compares the JWT itself).
 */
export function acceptJwtAtIntrospection(provider: Provider): void {
  provider.use(async (ctx, next) => {
    if (
      ctx.method === 'POST' &&
      /\/token\/(introspection|revocation)$/.test(ctx.path) &&
      ctx.is('application/x-www-form-urlencoded') &&
      ctx.req.readable
    ) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of ctx.req.iterator({ destroyOnReturn: false })) {
        size += (chunk as Buffer).length;
        if (size > 56 * 1024) {
          // answered here as an OAuth error (a throw would reach Koa's default handler inside oidc-provider, which
          // drops the headers already set: security headers, no-store, the request id) with a plain-text body
          ctx.status = 413;
          ctx.set('Cache-Control', 'no-store');
          ctx.body = { error: 'invalid_request', error_description: 'the request body is too large' };
          return;
        }
        chunks.push(chunk as Buffer);
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const token = form.get('token');
      if (token !== null && jtiOfJwt(token) !== undefined) form.set('token', token.replaceAll('.', '~'));
      (ctx.req as unknown as { body: string }).body = form.toString();
    }
    await next();
  });
}

/** The `jti` a presented access-token JWT names (undefined when it is not one). */
export function jtiOfJwt(value: string): string | undefined {
  const parts = value.replaceAll('~', '.').split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { jti?: unknown };
    return typeof claims.jti === 'string' && claims.jti.length > 0 ? claims.jti : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The jti an opaque access token's value names: the value itself, in the shape oidc-provider makes one (`nanoid`,
 * {@link OPAQUE_TOKEN_BITS} bits: 43 URL-safe characters; undefined for any other, a JWT included). Only a value
 * whose hash was stored with the token is one ({@link isIssuedValue}): a JWT token's bare jti is not.
 */
export function opaqueValue(value: string): string | undefined {
  return OPAQUE_VALUE.test(value) ? value : undefined;
}

/** The randomness of oidc-provider's opaque values, pinned in provider.ts (`formats.bitsOfOpaqueRandomness`). */
export const OPAQUE_TOKEN_BITS = 256;
/** Its URL-safe base64 characters (six bits each): 43 for 256 bits. */
const OPAQUE_VALUE = new RegExp(`^[A-Za-z0-9_-]{${Math.ceil(OPAQUE_TOKEN_BITS / 6)}}$`);

/** Whether `value` is exactly the value (a JWT, or an opaque client's random value) stored hashed with the token. */
export function isIssuedValue(value: string, stored: { atHash?: unknown }): boolean {
  if (typeof stored.atHash !== 'string') return false;
  const a = Buffer.from(hashOf(value.replaceAll('~', '.')));
  const b = Buffer.from(stored.atHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
