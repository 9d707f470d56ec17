/**
 * GET /risk/assessment — the signed assessment a relying party is entitled to: the one of the login behind
 * the access token it presents (`Authorization: Bearer`, or `DPoP` with a proof for a token bound to a key), and only
 * its own (the token's client). A DPoP-bound token needs a proof of its key for this request, checked as oidc-provider
 * checks one at userinfo (`dpop-proof.ts`), each proof once (`jti`, taken before the find, kept ten minutes when the
 * value proved an issued token of its key):
 * `RISK_ASSESSMENT_PROOF_INVALID` (401, with a `DPoP` challenge) otherwise, refused before anything acts on the token
 * (the token guard runs in its find), a proof already used too; so is an unbound token presented with a proof. Before,
 * a bound token presented as a bearer token, without its key, got the assessment. Each answer is signed in the HSM:
 * past the login's bucket (`rateLimit.perLoginAssessment`, ten then three a minute by default) 429 with Retry-After
 * and `temporarily_unavailable` (the body the rate limiter gives an API call), besides the address's bucket every
 * limited endpoint has (ratelimit/middleware.ts).
 * A compact JWS made in the HSM with its own key (purpose `risk_assessment`, published in `/jwks`; never the
 * audit key) (`typ: risk-assessment+jwt`) carrying the score,
 * decision, level, warnings and per-stage outcome, time and degradation — not the factors (they would
 * teach an attacker which signal fired). `RISK_ASSESSMENT_NOT_FOUND` (404) otherwise.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { REPLAY_KEEP_SECONDS } from '../oidc/redis-adapter.ts';
import type { Context } from 'koa';
import type { Pool } from 'pg';
import type { Signer } from '../../hsm/signer.ts';
import { GatewayError } from '../errors.ts';
import { refuseApiCall } from '../ratelimit/refusal.ts';
import { admitLogin } from '../ratelimit/scoped.ts';
import { DpopProofRefused, verifyDpopProof, type ProofNonces, type VerifiedProof } from './dpop-proof.ts';
import { markProtocolStepError } from '../http/protocol-step.ts';

/** What the endpoint uses, built once in boot.ts. */
export interface AssessmentDeps {
  /** Our issuer (`iss` of the JWS). */
  issuer: string;
  /**
   * The access token behind a presented value, in the current oidc-provider generation, presented with a verified
   * proof of the key `proof` (a thumbprint; undefined: none came): `result` is `unproven` when the token is bound to
   * another key or to one while none came; `proven` says the value was an issued token presented with the proof its
   * binding asks, even when the token guard then refused it (`oidc/proof-of-possession.ts` `withProofOf`).
   */
  accessToken(
    value: string,
    proof: string | undefined,
  ): Promise<{
    result: { grantId?: string | undefined; clientId?: string | undefined } | undefined | 'unproven';
    proven: boolean;
  }>;
  /** The algorithms a DPoP proof may be signed with. */
  dpopAlgorithms: readonly string[];
  /** The gateway's DPoP nonces (oidc/dpop-nonces.ts): checked when a proof carries one, handed out when stale. */
  dpopNonces: ProofNonces & { next(): string };
  /** `risk:grant:<grantId>` → the login (written by completion/finish-login.ts); the proofs' `jti`s seen. */
  redis: Pick<Redis, 'get' | 'set' | 'del'>;
  /** `risk_assessments`, one row per login. */
  pool: Pick<Pool, 'query'>;
  /** The active `risk_assessment` key in the HSM. */
  signer(): Signer;
}

const b64u = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

/**
 * How long a proof's `jti` is remembered: longer than a proof is accepted (±300 s around its `iat`, and a minute
 * for a fleet's clocks), as oidc-provider's own proofs are (`REPLAY_KEEP_SECONDS`).
 */
const PROOF_JTI_TTL_SECONDS = REPLAY_KEEP_SECONDS;

const unproven = (detail: string, cause?: unknown) =>
  new GatewayError('RISK_ASSESSMENT_PROOF_INVALID', 401, 'a proof of the key the token is bound to is required', {
    detail,
    cause,
  });

/** The challenge asks for the nonce (RFC 9449 §9) rather than for a proof: the client sends it again with this one. */
const ASKS_FOR_NONCE = Symbol('gateway.api.asks-for-nonce');

/**
 * The request's DPoP proof (scheme `DPoP`), verified: its key's thumbprint, and the key its `jti` is kept under once
 * the token is found; none for `Bearer` (then a `DPoP` header is refused, as oidc-provider refuses it).
 */
async function proofOf(
  ctx: Context,
  deps: AssessmentDeps,
  scheme: 'bearer' | 'dpop',
  token: string,
): Promise<{ thumbprint: string; jtiKey: string } | undefined> {
  const proof = ctx.get('DPoP');
  if (scheme === 'bearer') {
    if (proof) throw unproven('a DPoP proof with a Bearer token');
    return undefined;
  }
  if (!proof) throw unproven('the DPoP scheme without a proof');
  const url = new URL('risk/assessment', deps.issuer.endsWith('/') ? deps.issuer : `${deps.issuer}/`).href;
  let verified: VerifiedProof;
  try {
    verified = await verifyDpopProof(proof, {
      method: ctx.method,
      url,
      accessToken: token,
      algorithms: deps.dpopAlgorithms,
      nonces: deps.dpopNonces,
    });
  } catch (error) {
    if (error instanceof DpopProofRefused) {
      const refusal = unproven(error.message, error);
      if (error.useNonce) Object.assign(refusal, { [ASKS_FOR_NONCE]: true });
      // a stale nonce the gateway handed out is a step of the protocol, logged at info (http/protocol-step.ts)
      if (error.protocolStep) markProtocolStepError(refusal, 'use_dpop_nonce');
      throw refusal;
    }
    throw error;
  }
  // the nonce for the client's next proof, when this one's is not the latest (as oidc-provider answers)
  const next = deps.dpopNonces.next();
  if (verified.nonce !== next) ctx.set('DPoP-Nonce', next);
  // a fixed-size key whatever the jti's length
  const jti = createHash('sha256').update(verified.jti).digest('base64url');
  return { thumbprint: verified.thumbprint, jtiKey: `dpop:rs:${verified.thumbprint}:${jti}` };
}

export async function assessmentEndpoint(ctx: Context, deps: AssessmentDeps): Promise<void> {
  try {
    await assess(ctx, deps);
  } catch (error) {
    // RFC 9449 §7.1: the challenge names the scheme and the algorithms a proof may use
    if (error instanceof GatewayError && error.code === 'RISK_ASSESSMENT_PROOF_INVALID') {
      const asksForNonce = (error as GatewayError & { [ASKS_FOR_NONCE]?: boolean })[ASKS_FOR_NONCE] === true;
      if (asksForNonce) ctx.set('DPoP-Nonce', deps.dpopNonces.next());
      ctx.set(
        'WWW-Authenticate',
        `DPoP error="${asksForNonce ? 'use_dpop_nonce' : 'invalid_token'}", algs="${deps.dpopAlgorithms.join(' ')}"`,
      );
    }
    throw error;
  }
}

async function assess(ctx: Context, deps: AssessmentDeps): Promise<void> {
  const presented = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*)$/i.exec(ctx.get('authorization'));
  if (!presented) throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 401, 'an access token is required');
  const [, given, token] = presented as unknown as [string, string, string];
  const proof = await proofOf(ctx, deps, given.toLowerCase() === 'dpop' ? 'dpop' : 'bearer', token);
  // each proof once, taken before the find, whose token guard would act on the token (audit a revoked session's,
  // end a grant): a replay, even one sent at the same moment, acts on nothing
  if (proof && (await deps.redis.set(proof.jtiKey, '1', 'EX', PROOF_JTI_TTL_SECONDS, 'NX')) !== 'OK')
    throw unproven('a proof presented again');
  let found: Awaited<ReturnType<AssessmentDeps['accessToken']>> | undefined;
  try {
    found = await deps.accessToken(token, proof?.thumbprint);
  } finally {
    // kept only once the value proved an issued token of the proof's key (found, or refused by the token guard); a
    // made-up token, another key's, or a find that failed leaves nothing behind
    if (proof && !found?.proven) await deps.redis.del(proof.jtiKey);
  }
  const at = found.result;
  if (at === 'unproven') throw unproven('the token is bound to another key, or to one and no proof came, or to none');
  if (!at || !at.grantId) throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 404, 'no assessment for this token');
  // each answer is an HSM signature: a bucket per login (`rateLimit.perLoginAssessment`), taken once it is found
  const refused = await admitLogin(ctx, at.grantId);
  if (refused) return refuseApiCall(ctx, refused.retryAfterSeconds, 'RATE_LIMITED');
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
