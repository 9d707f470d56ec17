/**
 * A sender-constrained access token (DPoP, RFC 9449: `jkt`, the thumbprint of the key it is bound to) presented
 * at a resource endpoint of ours (userinfo) without a proof of that key is refused before anything acts on it:
 * oidc-provider checks the binding only after finding the token (`shared/access_token.js`), and the find runs the
 * token guard first (`session/oidc-models.ts`), which audits a token of a revoked or replaced session and ends the
 * grant of a token that is now another person's. Whoever holds a stolen bound token without its key could make the
 * gateway do that. Refused the same way oidc-provider would refuse it after the find (`invalid_token`, the same
 * reason), so the RP sees no difference. (An unbound token presented with a proof is left to oidc-provider: only its
 * own holder can do that.)
 *
 * The proof itself was verified by oidc-provider before the find (signature, `htm`, `htu`, `ath`, its age): only
 * the thumbprint of the key in its header is computed here (RFC 7638).
 */
import { createHash } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

/** The routes whose access-token check is oidc-provider's `validateAccessToken` (DPoP binding checked after the find). */
const RESOURCE_ROUTES: ReadonlySet<string> = new Set(['userinfo', 'credential']);

/** RFC 7638: the members of a public JWK that its thumbprint covers, by key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/** The RFC 7638 thumbprint (SHA-256, base64url) of the key in a DPoP proof's header; undefined when none can be made. */
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
 * resource route without proof of possession of the key it is bound to. Elsewhere (introspection and revocation,
 * where its client presents it) nothing is checked.
 *
 * @example
 * durable.find('AccessToken', jti, (stored) => isIssuedValue(value, stored) && provesPossession(stored));
 */
export function provesPossession(stored: { jkt?: unknown }): true {
  const ctx = Provider.ctx;
  const route = ctx?.oidc?.route;
  if (!ctx || route === undefined || !RESOURCE_ROUTES.has(route)) return true;
  if (typeof stored.jkt !== 'string') return true;
  const proof = ctx.get('DPoP');
  if (!proof || proofKeyThumbprint(proof) !== stored.jkt) throw new errors.InvalidToken('failed jkt verification');
  return true;
}
