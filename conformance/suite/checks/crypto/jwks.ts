/**
 * JWKS posture (RFC 7517, RFC 7518 §3, RFC 8725 §3.5; security-conformance.md CRYPTO-*): no private
 * material, strong keys only (RSA ≥ 2048 bits, EC P-256/384/521, Ed25519/Ed448), no symmetric keys,
 * unique kids, an alg for each signing key outside none/HS*, and a key published ahead of rotation
 * (judged black-box from which key signed this run's tokens; skipped, never passed, when none is visible).
 */
import { createPublicKey, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import { decodeProtectedHeader, type JWK } from 'jose';
import type { SuiteContext } from '../../context.ts';
import { judge, skip, type CheckDefinition, type Outcome } from '../../types.ts';
import { sharedLogin } from '../oidc/flows.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

async function keys(ctx: SuiteContext): Promise<JWK[]> {
  return (await ctx.rp.jwks()).keys ?? [];
}

async function jwksCheck(
  ctx: SuiteContext,
  expected: string,
  test: (keys: JWK[]) => [boolean, string],
): Promise<Outcome> {
  const [ok, observed] = test(await keys(ctx));
  return judge(ok, { sent: `GET ${ctx.rp.discovery.jwks_uri}`, expected, observed });
}

/** The key's strength in words, and whether it is acceptable. */
export function keyStrength(jwk: JWK): { ok: boolean; what: string } {
  if (jwk.kty === 'oct') return { ok: false, what: 'symmetric (oct)' };
  const key = createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
  const details = key.asymmetricKeyDetails ?? {};
  if (jwk.kty === 'RSA')
    return { ok: (details.modulusLength ?? 0) >= 2048, what: `RSA ${details.modulusLength ?? '?'}` };
  if (jwk.kty === 'EC')
    return { ok: ['P-256', 'P-384', 'P-521'].includes(String(jwk.crv)), what: `EC ${String(jwk.crv)}` };
  if (jwk.kty === 'OKP') return { ok: ['Ed25519', 'Ed448'].includes(String(jwk.crv)), what: `OKP ${String(jwk.crv)}` };
  return { ok: false, what: `unknown kty ${String(jwk.kty)}` };
}

/** The JWKS checks. */
export const jwksChecks: readonly CheckDefinition[] = [
  {
    id: 'CRYPTO-JWKS-01',
    title: 'The JWKS publishes no private or symmetric key material',
    plan: 'crypto',
    source: 'RFC 7517 §4, §9.2; RFC 7518 §6.2.2, §6.3.2',
    run: (ctx) =>
      jwksCheck(ctx, `no ${PRIVATE_MEMBERS.join('/')} members`, (ks) => {
        const leaking = ks.filter((k) => PRIVATE_MEMBERS.some((m) => m in k));
        return [ks.length > 0 && leaking.length === 0, `${ks.length} keys, ${leaking.length} with private members`];
      }),
  },
  {
    id: 'CRYPTO-JWKS-02',
    title: 'Key types and sizes are strong (RSA ≥ 2048, EC P-256+, EdDSA)',
    plan: 'crypto',
    source: 'RFC 7518 §3.3, §3.4; RFC 8725 §3.5; ANSSI RGS B1',
    run: (ctx) =>
      jwksCheck(ctx, 'every key strong', (ks) => {
        const report = ks.map((k) => keyStrength(k));
        return [
          ks.length > 0 && report.every((r) => r.ok),
          report.map((r) => `${r.what}${r.ok ? '' : ' (WEAK)'}`).join(', '),
        ];
      }),
  },
  {
    id: 'CRYPTO-JWKS-03',
    title: 'Each key has a unique kid and an alg that is not none or HMAC',
    plan: 'crypto',
    source: 'RFC 7517 §4.4, §4.5; RFC 8725 §3.1',
    run: (ctx) =>
      jwksCheck(ctx, 'unique kids; alg set, not none/HS*; use absent or sig', (ks) => {
        const kids = ks.map((k) => k.kid);
        const dupes = kids.filter((k, i) => kids.indexOf(k) !== i);
        const badAlg = ks.filter(
          (k) =>
            typeof k.alg !== 'string' ||
            k.alg === 'none' ||
            /^HS/.test(k.alg) ||
            (k.use !== undefined && k.use !== 'sig'),
        );
        return [
          dupes.length === 0 && badAlg.length === 0,
          `algs ${JSON.stringify(ks.map((k) => k.alg))}; duplicate kids: ${dupes.length}; bad alg/use: ${badAlg.length}`,
        ];
      }),
  },
  {
    id: 'CRYPTO-JWKS-04',
    title: 'A key is published ahead of rotation (a key of a signing algorithm that is not signing)',
    plan: 'crypto',
    source: 'OpenID Connect Core 1.0 §10.1.1 (rotation); RFC 7517 §5; ARCHITECTURE.md (next keys published ahead)',
    run: keyAheadCheck,
  },
];

/**
 * The kids seen signing this run's tokens (the honest login's ID token and its JWT access token), by alg; a reason
 * to skip when they cannot be told (no login, or an opaque access token).
 */
async function signingKids(ctx: SuiteContext): Promise<Map<string, string> | string> {
  if (ctx.idp === undefined)
    return 'no suite IdP is registered (--idp-id): no token was signed for the suite, so which key signs cannot be told';
  try {
    const login = await sharedLogin(ctx);
    const seen = new Map<string, string>();
    if (typeof login.header.kid === 'string') seen.set(login.header.kid, String(login.header.alg));
    const access = login.tokens.json.access_token;
    // an opaque access token (a client registered so) shows no key: the key signing other clients' access tokens,
    // of the ID token's algorithm, would then pass for a next key
    if (typeof access !== 'string' || access.split('.').length !== 3)
      return "the suite client's access tokens are opaque: which published key signs access tokens cannot be told, so a key of the same algorithm cannot be told for a next key (use a client with JWT access tokens)";
    const header = decodeProtectedHeader(access);
    if (typeof header.kid === 'string') seen.set(header.kid, String(header.alg));
    return seen;
  } catch (error) {
    return `the honest login failed (${(error as Error).message}), so which key signs cannot be told`;
  }
}

/**
 * Black-box "published ahead": a key is not signing when it shares an algorithm with a key seen signing
 * this run's tokens (one key signs per algorithm). Such a key is a next key (published ahead) — or a
 * retired one still published for verification, which the JWKS cannot tell apart; the observation says so.
 * When every published key signs or is the only key of its algorithm (so may sign), no rotation is
 * visibly due: skipped, never passed.
 */
async function keyAheadCheck(ctx: SuiteContext): Promise<Outcome> {
  const ks = await keys(ctx);
  const sent = `GET ${ctx.rp.discovery.jwks_uri}; the kid of this run's ID token (and JWT access token)`;
  const expected = 'a published key of a signing algorithm that is not the key signing now (the next key)';
  const seen = await signingKids(ctx);
  const listing = ks.map((k) => `${String(k.kid)} (${String(k.alg)})`).join(', ');
  if (typeof seen === 'string') return skip(seen, { sent, expected, observed: `published: ${listing}` });
  const signingAlgs = new Set(seen.values());
  const ahead = ks.filter((k) => typeof k.kid === 'string' && !seen.has(k.kid) && signingAlgs.has(String(k.alg)));
  const signing = [...seen].map(([kid, alg]) => `${kid} (${alg})`).join(', ');
  if (ahead.length > 0) {
    return judge(true, {
      sent,
      expected,
      observed: `signing: ${signing}; published and not signing: ${ahead.map((k) => `${String(k.kid)} (${String(k.alg)})`).join(', ')} — a next key (or a retired one kept for verification; the JWKS does not say which)`,
    });
  }
  return skip(
    'every published key signs or may sign (each is the only key of its algorithm) and no rotation is visibly due: a deployment publishes its next key only within the rotation lead time before a rotation (or when an operator stages one, e.g. `node hsm/cli.ts generate id_token RS256`); re-run then',
    { sent, expected, observed: `signing: ${signing}; published: ${listing}` },
  );
}
