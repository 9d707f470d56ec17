/**
 * A sender-constrained access token (DPoP, RFC 9449: `jkt`, the thumbprint of the key it is bound to) presented
 * at a resource endpoint of ours (userinfo) without a proof of that key is refused before anything acts on it:
 * oidc-provider checks the binding only after finding the token (`shared/access_token.js`), and the find runs the
 * token guard first (`session/oidc-models.ts`), which audits a token of a revoked or replaced session and ends the
 * grant of a token that is now another person's. Whoever holds a stolen bound token without its key could make the
 * gateway do that. Refused the same way oidc-provider would refuse it after the find (`invalid_token`, the same
 * reason; its challenge names the `Bearer` scheme when no proof came, as oidc-provider's did not know the token
 * then). An unbound token presented with a proof is left to oidc-provider: only its own holder can do that. A proof
 * replayed within its five minutes is refused by oidc-provider after the find (its replay check comes later): the
 * guard may act on the token of whoever captured a token and one of its proofs, as before.
 *
 * The proof itself was verified by oidc-provider before the find (signature, `htm`, `htu`, `ath`, its age): only
 * the thumbprint of the key in its header is computed here (RFC 7638).
 *
 * The gateway's own resource route (the signed risk assessment, `api/risk-assessment.ts`) verifies the proof itself
 * (`api/dpop-proof.ts`) and runs its find under {@link withProofOf}.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

/** The algorithms a DPoP proof may be signed with (oidc-provider's `dPoPSigningAlgValues`; our own resource routes). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'] as const;

/**
 * A resource route of ours outside oidc-provider (the signed risk assessment) that verified the request's DPoP proof
 * itself: the thumbprint of its key (undefined: the request came with none), for the find it runs.
 */
const presented = new AsyncLocalStorage<{ thumbprint: string | undefined; proven: boolean }>();

/**
 * Runs `find` (an access token's find) as a resource request whose verified DPoP proof has the key `thumbprint`
 * (undefined: none came): a token bound to another key, or to one when none came, is refused in the find. `proven`:
 * the presented value was an issued token, presented with the proof its binding asks (or none for an unbound one),
 * whatever the token guard then made of it (a revoked session's token is proven, and not found): the caller keeps a
 * proof's `jti` then, so that a replay is refused before the guard.
 *
 * @example
 * const { result, proven } = await withProofOf(proof?.thumbprint, () => provider.AccessToken.find(value));
 */
export async function withProofOf<T>(
  thumbprint: string | undefined,
  find: () => Promise<T>,
): Promise<{ result: T; proven: boolean }> {
  const store = { thumbprint, proven: false };
  const result = await presented.run(store, find);
  return { result, proven: store.proven };
}

/** The routes whose token check is oidc-provider's `validateAccessToken` (DPoP binding checked after the find). */
const RESOURCE_ROUTES: ReadonlySet<string> = new Set(['userinfo', 'credential']);

/** RFC 7638: the members of a public JWK that its thumbprint covers, by key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/** The RFC 7638 thumbprint (SHA-256, base64url) of the key in a DPoP proof's header; undefined when there is none. */
export function proofKeyThumbprint(proof: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(proof.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
      jwk?: Record<string, unknown>;
    };
    const jwk = header.jwk;
    const members = typeof jwk?.kty === 'string' ? THUMBPRINT_MEMBERS[jwk.kty] : undefined;
    if (!jwk || !members || members.some((m) => typeof jwk[m] !== 'string')) return undefined;
    const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
    return createHash('sha256').update(canonical).digest('base64url');
  } catch {
    return undefined;
  }
}

/**
 * Throws oidc-provider's `InvalidToken` when the access token `stored` (its stored payload) is presented at a
 * resource route without proof of possession of the key it is bound to: oidc-provider's (userinfo), or one of ours
 * ({@link withProofOf}). Elsewhere (introspection and revocation, where its client presents it) nothing is checked.
 *
 * @example
 * durable.find('AccessToken', jti, (stored) => isIssuedValue(value, stored) && provesPossession(stored));
 */
export function provesPossession(stored: { jkt?: unknown }): true {
  const ours = presented.getStore();
  if (ours !== undefined) {
    if (typeof stored.jkt === 'string' ? ours.thumbprint !== stored.jkt : ours.thumbprint !== undefined)
      throw new errors.InvalidToken(
        typeof stored.jkt === 'string' ? 'failed jkt verification' : 'not sender-constrained',
      );
    ours.proven = true;
    return true;
  }
  const ctx = Provider.ctx;
  const route = ctx?.oidc?.route;
  if (!ctx || route === undefined || !RESOURCE_ROUTES.has(route)) return true;
  if (typeof stored.jkt !== 'string') return true;
  const proof = ctx.get('DPoP');
  if (!proof || proofKeyThumbprint(proof) !== stored.jkt) throw new errors.InvalidToken('failed jkt verification');
  return true;
}
