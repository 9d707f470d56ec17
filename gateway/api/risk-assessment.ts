/**
 * GET /risk/assessment — the signed assessment a relying party is entitled to: the one of the login behind
 * the access token it presents (`Authorization: Bearer`, or `DPoP` with a proof for a token bound to a key), and only
 * its own (the token's client). A DPoP-bound token needs a proof of its key for this request, checked as oidc-provider
 * checks one at userinfo (`dpop-proof.ts`), each proof once (`jti`, kept for ten minutes):
 * `RISK_ASSESSMENT_PROOF_INVALID` (401) otherwise, refused before anything acts on the token (the token guard runs
 * in its find). Before, a bound token presented as a bearer token, without its key, got the assessment.
 * A compact JWS made in the HSM with its own key (purpose `risk_assessment`, published in `/jwks`; never the
 * audit key) (`typ: risk-assessment+jwt`) carrying the score,
 * decision, level, warnings and per-stage outcome, time and degradation — not the factors (they would
 * teach an attacker which signal fired). `RISK_ASSESSMENT_NOT_FOUND` (404) otherwise.
 */
import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import type { Pool } from 'pg';
import type { Signer } from '../../hsm/signer.ts';
import { GatewayError } from '../errors.ts';
import { DpopProofRefused, verifyDpopProof, type VerifiedProof } from './dpop-proof.ts';

/** What the endpoint uses, built once in boot.ts. */
export interface AssessmentDeps {
  /** Our issuer (`iss` of the JWS). */
  issuer: string;
  /**
   * The access token behind a presented value, in the current oidc-provider generation, presented with a verified
   * proof of the key `proof` (a thumbprint; undefined: none came); `unproven` when the token is bound to another key
   * or to one while none came (`oidc/proof-of-possession.ts` `withProofOf`).
   */
  accessToken(
    value: string,
    proof: string | undefined,
  ): Promise<{ grantId?: string | undefined; clientId?: string | undefined } | undefined | 'unproven'>;
  /** The algorithms a DPoP proof may be signed with. */
  dpopAlgorithms: readonly string[];
  /** `risk:grant:<grantId>` → the login (written by completion/finish-login.ts); the proofs' `jti`s seen. */
  redis: Pick<Redis, 'get' | 'set'>;
  /** `risk_assessments`, one row per login. */
  pool: Pick<Pool, 'query'>;
  /** The active `risk_assessment` key in the HSM. */
  signer(): Signer;
}

const b64u = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

/** How long a proof's `jti` is remembered: longer than a proof is accepted (±300 s around its `iat`). */
const PROOF_JTI_TTL_SECONDS = 600;

const unproven = (detail: string, cause?: unknown) =>
  new GatewayError('RISK_ASSESSMENT_PROOF_INVALID', 401, 'a proof of the key the token is bound to is required', {
    detail,
    cause,
  });

/** The thumbprint of the key of the request's DPoP proof (scheme `DPoP`), verified and used once; none for `Bearer`. */
async function proofOf(ctx: Context, deps: AssessmentDeps, scheme: string, token: string): Promise<string | undefined> {
  if (scheme === 'Bearer') {
    if (ctx.get('DPoP')) throw unproven('a DPoP proof with a Bearer token');
    return undefined;
  }
  const proof = ctx.get('DPoP');
  if (!proof) throw unproven('the DPoP scheme without a proof');
  const url = new URL('risk/assessment', deps.issuer.endsWith('/') ? deps.issuer : `${deps.issuer}/`).href;
  let verified: VerifiedProof;
  try {
    verified = await verifyDpopProof(proof, {
      method: ctx.method,
      url,
      accessToken: token,
      algorithms: deps.dpopAlgorithms,
    });
  } catch (error) {
    if (error instanceof DpopProofRefused) throw unproven(error.message, error);
    throw error;
  }
  const first = await deps.redis.set(
    `dpop:rs:${verified.thumbprint}:${verified.jti}`,
    '1',
    'EX',
    PROOF_JTI_TTL_SECONDS,
    'NX',
  );
  if (first !== 'OK') throw unproven('a proof presented again');
  return verified.thumbprint;
}

export async function assessmentEndpoint(ctx: Context, deps: AssessmentDeps): Promise<void> {
  const presented = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'));
  if (!presented) throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 401, 'an access token is required');
  const [, scheme, token] = presented as unknown as [string, string, string];
  const at = await deps.accessToken(token, await proofOf(ctx, deps, scheme, token));
  if (at === 'unproven') throw unproven('the token is bound to another key, or to one and no proof came');
  if (!at || !at.grantId) throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 404, 'no assessment for this token');
  const loginId = await deps.redis.get(`risk:grant:${at.grantId}`);
  const { rows } = loginId
    ? await deps.pool.query<{ client_id: string; assessment: Record<string, unknown>; at: Date }>(
        'select client_id, assessment, at from risk_assessments where login_id = $1',
        [loginId],
      )
    : { rows: [] };
  const row = rows[0];
  if (!row || row.client_id !== at.clientId)
    throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 404, 'no assessment for this token');
  const a = row.assessment as {
    score: number;
    stages: Array<{ name: string; outcome: string; ms: number; degraded: boolean }>;
    warnings?: string[];
    tier?: number;
    decision: { kind: string; level?: number };
  };
  const signer = deps.signer();
  const header = { alg: signer.alg, kid: signer.kid, typ: 'risk-assessment+jwt' };
  const payload = {
    iss: deps.issuer,
    aud: at.clientId,
    iat: Math.floor(Date.now() / 1000),
    assessed_at: Math.floor(row.at.getTime() / 1000),
    fraud_score: a.score,
    decision: a.decision.kind,
    level: a.decision.level ?? 0,
    tier: a.tier ?? 0,
    warnings: a.warnings ?? [],
    stages: a.stages.map((s) => ({ name: s.name, outcome: s.outcome, ms: s.ms, degraded: s.degraded })),
  };
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const signature = await signer.sign(Buffer.from(input, 'ascii'));
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/jwt';
  ctx.body = `${input}.${b64u(signature)}`;
}
