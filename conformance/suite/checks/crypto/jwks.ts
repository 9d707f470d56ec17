/**
 * JWKS posture (RFC 7517, RFC 7518 §3, RFC 8725 §3.5; security-conformance.md CRYPTO-*): no private
 * material, strong keys only (RSA ≥ 2048 bits, EC P-256/384/521, Ed25519/Ed448), no symmetric keys,
 * unique kids, an alg for each signing key outside none/HS*, and a key published ahead of rotation.
 */
import { createPublicKey, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import type { JWK } from 'jose';
import type { SuiteContext } from '../../context.ts';
import { judge, type CheckDefinition, type Outcome } from '../../types.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

async function keys(ctx: SuiteContext): Promise<JWK[]> {
  return (await ctx.rp.jwks()).keys ?? [];
}

async function jwksCheck(ctx: SuiteContext, expected: string, test: (keys: JWK[]) => [boolean, string]): Promise<Outcome> {
  const [ok, observed] = test(await keys(ctx));
  return judge(ok, { sent: `GET ${ctx.rp.discovery.jwks_uri}`, expected, observed });
}

/** The key's strength in words, and whether it is acceptable. */
export function keyStrength(jwk: JWK): { ok: boolean; what: string } {
  if (jwk.kty === 'oct') return { ok: false, what: 'symmetric (oct)' };
  const key = createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
  const details = key.asymmetricKeyDetails ?? {};
  if (jwk.kty === 'RSA') return { ok: (details.modulusLength ?? 0) >= 2048, what: `RSA ${details.modulusLength ?? '?'}` };
  if (jwk.kty === 'EC') return { ok: ['P-256', 'P-384', 'P-521'].includes(String(jwk.crv)), what: `EC ${String(jwk.crv)}` };
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
    run: (ctx) => jwksCheck(ctx, `no ${PRIVATE_MEMBERS.join('/')} members`, (ks) => {
      const leaking = ks.filter((k) => PRIVATE_MEMBERS.some((m) => m in k));
      return [ks.length > 0 && leaking.length === 0, `${ks.length} keys, ${leaking.length} with private members`];
    }),
  },
  {
    id: 'CRYPTO-JWKS-02',
    title: 'Key types and sizes are strong (RSA ≥ 2048, EC P-256+, EdDSA)',
    plan: 'crypto',
    source: 'RFC 7518 §3.3, §3.4; RFC 8725 §3.5; ANSSI RGS B1',
    run: (ctx) => jwksCheck(ctx, 'every key strong', (ks) => {
      const report = ks.map((k) => keyStrength(k));
      return [ks.length > 0 && report.every((r) => r.ok), report.map((r) => `${r.what}${r.ok ? '' : ' (WEAK)'}`).join(', ')];
    }),
  },
  {
    id: 'CRYPTO-JWKS-03',
    title: 'Each key has a unique kid and an alg that is not none or HMAC',
    plan: 'crypto',
    source: 'RFC 7517 §4.4, §4.5; RFC 8725 §3.1',
    run: (ctx) => jwksCheck(ctx, 'unique kids; alg set, not none/HS*; use absent or sig', (ks) => {
      const kids = ks.map((k) => k.kid);
      const dupes = kids.filter((k, i) => kids.indexOf(k) !== i);
      const badAlg = ks.filter((k) => typeof k.alg !== 'string' || k.alg === 'none' || /^HS/.test(k.alg) || (k.use !== undefined && k.use !== 'sig'));
      return [dupes.length === 0 && badAlg.length === 0, `algs ${JSON.stringify(ks.map((k) => k.alg))}; duplicate kids: ${dupes.length}; bad alg/use: ${badAlg.length}`];
    }),
  },
  {
    id: 'CRYPTO-JWKS-04',
    title: 'A key is published ahead of rotation (more than one key for the ID-token alg)',
    plan: 'crypto',
    source: 'OpenID Connect Core 1.0 §10.1.1 (rotation); ARCHITECTURE.md (next keys published ahead)',
    run: async (ctx) => {
      return jwksCheck(ctx, 'at least two keys for RS256 (the one signing now and the next one)', (ks) => {
        const rs = ks.filter((k) => k.alg === 'RS256');
        return [rs.length >= 2, `${rs.length} RS256 key(s): ${rs.map((k) => k.kid).join(', ')}`];
      });
    },
  },
];
